import BundleFormat
import GitKit
import KV

/// The bundle layout's incremental sync: from the synced commit to the head, only the bundles
/// whose directories changed are read from git and from KV, rebuilt and written.
extension SyncPlanner {
    func incremental(_ context: PlanContext, previous: SyncState, synced: ObjectID) async throws(SyncError) -> SyncPlan {
        var plan = context.emptyPlan(target: target, mode: .upToDate, reason: "")
        let affected = try await bundlesChanged(since: synced, context)
        guard !affected.isEmpty else { return plan }
        plan = context.emptyPlan(target: target, mode: .incremental, reason: "")
        let snapshot = try await readSnapshot(context.head, bundles: affected)
        let live = try await liveBundles(affected)
        var inventory = BundleInventory(state: previous, target: target)
        let chunksBefore = inventory.chunks
        let existingChunks = Set(chunksBefore.map(target.chunkKey)).union(context.keys ?? [])
        var errors = previous.errors.filter { !affected.contains($0.bundle) }
        for name in affected.sorted() {
            let outcome = try await build(name, snapshot)
            switch outcome {
            case .built(let bundle):
                if let stored = live[name], stored?.digest == bundle.digest {
                    plan.unchangedBundles += 1
                } else {
                    let record = try stage(bundle, name: name, existingKeys: existingChunks, into: &plan)
                    inventory.stored(name, chunks: record.chunks, existedBefore: live[name] != nil, target: target)
                }
            case .rejected(let problems):
                let found = problems.map { SyncProblem(bundle: name, problem: $0, commit: context.head.hex) }
                plan.problems += found
                errors += found
            case .empty:
                if live[name] != nil {
                    plan.deletes.append(target.bundleKey(name))
                    inventory.removed(name, target: target)
                }
            }
        }
        let changed = !plan.writes.isEmpty || !plan.deletes.isEmpty || Set(errors) != Set(previous.errors)
        guard changed else { return plan }
        // An incremental pass does not look for drift: the last repairs stay on show until a full compare finds none.
        plan.newState = newState(context, inventory: inventory, errors: errors, kind: "sync", drift: previous.drift, commit: snapshot.commit)
        plan.unreferencedChunks = chunksBefore.subtracting(inventory.chunks).map(target.chunkKey).sorted()
        return plan
    }

    /// The bundles the commits since `synced` touched (by path, after include/exclude).
    func bundlesChanged(since synced: ObjectID, _ context: PlanContext) async throws(SyncError) -> Set<String> {
        let deltas = try await diffSinceSync(synced, context)
        let layout = BundleLayout(bundleBy: target.mapping.bundleBy)
        let filter = PathFilter(include: target.mapping.include, exclude: target.mapping.exclude)
        var affected: Set<String> = []
        for path in deltas.flatMap(\.paths) {
            let text = path.string ?? path.escaped
            if path.string != nil, !filter.admits(text) { continue }
            affected.insert(layout.place(text).bundle)
        }
        return affected
    }

    /// What KV holds for each of these bundles: a name is present when its key exists, with
    /// the stored bundle's digest and chunks (nil when the value is not a readable bundle).
    /// A few reads at a time; each is one small key, never the whole prefix.
    func liveBundles(_ names: Set<String>) async throws(SyncError) -> [String: StoredValue?] {
        let kv = kv
        let target = target
        let sorted = names.sorted()
        let reads = await concurrentMap(sorted, width: 8) { name -> Result<KVEntry?, KVError> in
            do throws(KVError) {
                return .success(try await kv.get(target.bundleKey(name)).value)
            } catch {
                return .failure(error)
            }
        }
        var live: [String: StoredValue?] = [:]
        for (name, read) in zip(sorted, reads) {
            switch read {
            case .success(let entry?): live[name] = .some(StoredValue(entry.value))
            case .success(nil): continue
            case .failure(let error): throw SyncError(.kv, "read \(target.bundleKey(name)): \(error)")
            }
        }
        return live
    }
}
