import BundleFormat
import GitKit
import KV

extension SyncPlanner {
    /// Builds every bundle at the head and compares it with what KV holds: writes only what
    /// differs, keeps rejected bundles at their last good value, and removes keys git does not
    /// have. Differences the state did not explain are reported as drift.
    func fullCompare(_ context: PlanContext, reason: String) async throws(SyncError) -> SyncPlan {
        var plan = context.emptyPlan(target: target, mode: .fullCompare, reason: reason)
        let listing = try await KVCall.run("read \(target.prefix)/") { () throws(KVError) in try await kv.list(prefix: target.prefix + "/") }
        let current = Dictionary(listing.value.map { ($0.key, $0) }, uniquingKeysWith: { _, last in last })
        let existingKeys = Set(current.keys)
        let snapshot = try await readSnapshot(context.head)
        let names = snapshot.bundleNames
        let previous = context.previous
        let expectedSame = try await unchangedSinceState(context)

        var records: [String: BundleRecord] = [:]
        var errors: [SyncProblem] = []
        var drift: [String] = []
        let mapping = target
        /// What KV holds for a bundle, when it is a readable bundle whose chunks are all there.
        let intact: @Sendable (String) -> StoredValue? = { name in
            guard let stored = current[mapping.bundleKey(name)].flatMap({ StoredValue($0.value) }) else { return nil }
            let chunksPresent = stored.chunks?.allSatisfy { existingKeys.contains(mapping.chunkKey($0)) } ?? true
            return chunksPresent ? stored : nil
        }
        let sorted = names.sorted()
        var position = 0
        // In windows, so memory holds a window of built bundles rather than the whole tree.
        while position < sorted.count {
            let window = sorted[position..<min(position + 64, sorted.count)]
            let prepared = try await prepare(window, from: snapshot) { name, bundle in intact(name)?.digest != bundle.digest }
            for item in prepared {
                position += 1
                report(step: position, of: names.count, "building bundles")
                let name = item.name
                let key = target.bundleKey(name)
                switch item.outcome {
                case .built(let bundle):
                    guard let encoded = item.encoded else {
                        records[name] = intact(name)?.record
                        plan.unchangedBundles += 1
                        continue
                    }
                    if expectedSame(name) {
                        drift.append(current[key] == nil ? "\(key) was missing; rewritten" : "\(key) differed from git; rewritten")
                    }
                    records[name] = stage(bundle, stored: try encoded.get(), name: name, existingKeys: existingKeys, into: &plan)
                case .rejected(let problems):
                    let found = problems.map { SyncProblem(bundle: name, problem: $0, commit: context.head.hex) }
                    plan.problems += found
                    errors += found
                    if let stored = current[key].flatMap({ StoredValue($0.value) }) { records[name] = stored.record }
                case .empty:
                    break
                }
            }
        }
        for key in existingKeys.sorted() {
            guard let name = target.bundleName(ofKey: key), records[name] == nil, !names.contains(name) else { continue }
            plan.deletes.append(key)
            if expectedSame(name) { drift.append("\(key) is not from git; removed") }
        }
        plan.drift = drift
        plan.unreferencedChunks = unreferencedChunks(existing: existingKeys, records: records)
        let inventory = BundleInventory(records: records, target: target)
        let stateMatches = previous.map {
            !$0.isLegacy && $0.commit.id == context.head.hex && BundleInventory(state: $0, target: target) == inventory
                && Set($0.errors) == Set(errors) && $0.checks == target.mapping.checksFingerprint
        } ?? false
        if !plan.writes.isEmpty || !plan.deletes.isEmpty || !stateMatches || purpose == .rollback {
            plan.newState = newState(context, inventory: inventory, errors: errors, kind: fullCompareKind, drift: drift, commit: snapshot.commit)
        }
        return plan
    }

    /// Tells, by bundle name, whether the state says KV should hold what git has now: the
    /// commits since the synced one did not touch it, it was not held back, and the checks did
    /// not change. A difference there is drift (a hand edit); elsewhere it is the commits' doing.
    func unchangedSinceState(_ context: PlanContext) async throws(SyncError) -> @Sendable (String) -> Bool {
        guard let previous = context.previous, !previous.isLegacy, previous.checks == target.mapping.checksFingerprint,
            let synced = ObjectID(hex: previous.commit.id)
        else { return { _ in false } }
        let changed: Set<String>
        do {
            changed = try await bundlesChanged(since: synced, context)
        } catch {
            return { _ in false }
        }
        let heldBack = Set(previous.errors.map(\.bundle))
        return { name in !changed.contains(name) && !heldBack.contains(name) }
    }
}
