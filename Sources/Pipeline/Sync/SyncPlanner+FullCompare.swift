import BundleFormat
import KV

extension SyncPlanner {
    /// Builds every bundle at the head and compares it with what KV holds: writes only what
    /// differs, keeps rejected bundles at their last good value, and removes keys git does not
    /// have. Differences the state did not explain are reported as drift.
    func fullCompare(_ context: PlanContext, reason: String) async throws(SyncError) -> SyncPlan {
        var plan = context.emptyPlan(target: target, mode: .fullCompare, reason: reason)
        let listing = try await KVCall.run("read \(target.prefix)/") { () throws(KVError) in try await kv.list(prefix: target.prefix + "/") }
        var current: [String: KVEntry] = [:]
        for entry in listing.value { current[entry.key] = entry }
        let existingKeys = Set(current.keys)
        let snapshot = try await readSnapshot(context.head)
        let names = snapshot.bundleNames
        let previous = context.previous

        var records: [String: BundleRecord] = [:]
        var errors: [SyncProblem] = []
        var drift: [String] = []
        for (position, name) in names.sorted().enumerated() {
            report(step: position + 1, of: names.count, "building bundles")
            let key = target.bundleKey(name)
            let stored = current[key].flatMap { StoredValue($0.value) }
            let chunksPresent = stored?.chunks?.allSatisfy { existingKeys.contains(target.chunkKey($0)) } ?? true
            switch try await build(name, snapshot) {
            case .built(let bundle):
                if let stored, stored.digest == bundle.digest, chunksPresent {
                    records[name] = stored.record
                    plan.unchangedBundles += 1
                    continue
                }
                if let previous, previous.bundles[name]?.digest == bundle.digest {
                    drift.append(current[key] == nil ? "\(key) was missing; rewritten" : "\(key) differed from git; rewritten")
                }
                records[name] = try stage(bundle, name: name, existingKeys: existingKeys, into: &plan)
            case .rejected(let problems):
                let found = problems.map { SyncProblem(bundle: name, problem: $0, commit: context.head.hex) }
                plan.problems += found
                errors += found
                if let stored { records[name] = stored.record }
            case .empty:
                break
            }
        }
        for key in existingKeys.sorted() {
            guard let name = target.bundleName(ofKey: key), records[name] == nil, !names.contains(name) else { continue }
            plan.deletes.append(key)
            if let previous, previous.bundles[name] == nil { drift.append("\(key) is not from git; removed") }
        }
        plan.drift = drift
        plan.unreferencedChunks = unreferencedChunks(existing: existingKeys, records: records)
        let stateMatches = previous.map {
            $0.commit.id == context.head.hex && $0.bundles == records && Set($0.errors) == Set(errors)
        } ?? false
        if !plan.writes.isEmpty || !plan.deletes.isEmpty || !stateMatches || purpose == .rollback {
            plan.newState = newState(context, records: records, errors: errors, kind: fullCompareKind, drift: drift, snapshot: snapshot)
        }
        return plan
    }
}
