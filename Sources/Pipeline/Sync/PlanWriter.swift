import BundleFormat
import KV

/// Carries out a plan: chunks first, then the bundles, deletions and state, guarded by CAS on
/// the state key (one transaction when the limits allow, otherwise several, each re-checking
/// the state and the state written last), then removes chunks nothing references any more.
struct PlanWriter: Sendable {
    struct Outcome: Sendable {
        var transactions = 0
        var bytes = 0
        /// The index at which the state was written (its new modify index).
        var stateIndex: UInt64 = 0
        var lastWriteIndex: UInt64 = 0
    }

    let kv: any KVStore
    var progress: (@Sendable (String) -> Void)?

    func write(_ plan: SyncPlan) async throws(SyncError) -> Outcome {
        let target = plan.target
        let packer = TransactionPacker(limits: kv.limits)
        let stateGuard: KVOperation =
            plan.stateIndex == 0 ? .checkNotExists(key: target.stateKey) : .checkIndex(key: target.stateKey, index: plan.stateIndex)
        var outcome = Outcome()

        let uploads = plan.chunkUploads.map { KVOperation.set(key: target.chunkKey($0.sha256), value: $0.bytes) }
        for operations in packer.pack(uploads, guard: stateGuard, last: nil) {
            try await run(operations, plan: plan, into: &outcome)
        }

        let changes = plan.writes.map { KVOperation.set(key: $0.key, value: $0.value) } + plan.deletes.map { KVOperation.delete(key: $0) }
        let stateWrite = plan.newState.map { KVOperation.cas(key: target.stateKey, value: $0.encoded(), index: plan.stateIndex) }
        let single = packer.pack(changes, guard: nil, last: stateWrite)
        let batches = single.count <= 1 ? single : packer.pack(changes, guard: stateGuard, last: stateWrite)
        for (position, operations) in batches.enumerated() {
            if batches.count > 1 { progress?("\(target.description): transaction \(position + 1)/\(batches.count)") }
            let index = try await run(operations, plan: plan, into: &outcome)
            if stateWrite != nil { outcome.stateIndex = index }
        }

        let removals = plan.unreferencedChunks.map { KVOperation.delete(key: $0) }
        for operations in packer.pack(removals, guard: nil, last: nil) {
            try await run(operations, plan: plan, into: &outcome)
        }
        return outcome
    }

    @discardableResult
    private func run(_ operations: [KVOperation], plan: SyncPlan, into outcome: inout Outcome) async throws(SyncError) -> UInt64 {
        let stateKey = plan.target.stateKey
        do {
            let result = try await kv.transaction(operations)
            outcome.transactions += 1
            outcome.bytes += operations.reduce(0) { $0 + Self.valueBytes($1) }
            outcome.lastWriteIndex = max(outcome.lastWriteIndex, result.index)
            return result.index
        } catch {
            let lostRace = error.kind == .transactionFailed
                && error.failures.contains { operations.indices.contains($0.operationIndex) && operations[$0.operationIndex].key == stateKey }
            if lostRace {
                throw SyncError(.conflict, "\(stateKey) changed since it was read (another sync wrote it)")
            }
            throw SyncError(.kv, "writing \(plan.target.prefix): \(error)")
        }
    }

    private static func valueBytes(_ operation: KVOperation) -> Int {
        switch operation {
        case .set(_, let value, _), .cas(_, let value, _, _): value.count
        default: 0
        }
    }
}
