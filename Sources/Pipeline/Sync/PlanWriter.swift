import BundleFormat
import KV

/// Carries out a plan: chunks first, then the bundles, deletions and state, guarded by CAS on
/// the state key (one transaction when the limits allow, otherwise several, each re-checking
/// the state and the state written last), then removes chunks nothing references any more.
/// Every transaction also checks that the prefix is not frozen (unless this is a rollback) and,
/// under a leader, that the leader lock is still held.
struct PlanWriter: Sendable {
    struct Outcome: Sendable {
        var transactions = 0
        var bytes = 0
        /// The index at which the state was written (its new modify index).
        var stateIndex: UInt64 = 0
        var lastWriteIndex: UInt64 = 0
    }

    let kv: any KVStore
    var options = SyncOptions()
    var progress: (@Sendable (String) -> Void)?

    func write(_ plan: SyncPlan) async throws(SyncError) -> Outcome {
        let target = plan.target
        let packer = TransactionPacker(limits: kv.limits)
        let stateGuard: KVOperation =
            plan.stateIndex == 0 ? .checkNotExists(key: target.stateKey) : .checkIndex(key: target.stateKey, index: plan.stateIndex)
        let standingGuards = options.standingGuards(for: target)
        var outcome = Outcome()

        let uploads = plan.chunkUploads.map { KVOperation.set(key: target.chunkKey($0.sha256), value: $0.bytes) }
        for operations in packer.pack(uploads, guards: standingGuards + [stateGuard], last: nil) {
            try await run(operations, plan: plan, into: &outcome)
        }

        let changes = plan.writes.map { KVOperation.set(key: $0.key, value: $0.value) } + plan.deletes.map { KVOperation.delete(key: $0) }
        let stateWrite = plan.newState.map { KVOperation.cas(key: target.stateKey, value: $0.encoded(), index: plan.stateIndex) }
        let single = packer.pack(changes, guards: standingGuards, last: stateWrite)
        let batches = single.count <= 1 ? single : packer.pack(changes, guards: standingGuards + [stateGuard], last: stateWrite)
        for (position, operations) in batches.enumerated() {
            if batches.count > 1 { progress?("\(target.description): transaction \(position + 1)/\(batches.count)") }
            let index = try await run(operations, plan: plan, into: &outcome)
            if stateWrite != nil { outcome.stateIndex = index }
        }

        let removals = plan.unreferencedChunks.map { KVOperation.delete(key: $0) }
        for operations in packer.pack(removals, guards: standingGuards, last: nil) {
            try await run(operations, plan: plan, into: &outcome)
        }
        return outcome
    }

    @discardableResult
    private func run(_ operations: [KVOperation], plan: SyncPlan, into outcome: inout Outcome) async throws(SyncError) -> UInt64 {
        let index = try await Self.send(operations, kv: kv, target: plan.target, options: options)
        outcome.transactions += 1
        outcome.bytes += operations.reduce(0) { $0 + Self.valueBytes($1) }
        outcome.lastWriteIndex = max(outcome.lastWriteIndex, index)
        return index
    }

    /// One transaction of a mapping's write, after the write rate limit admits it; returns the
    /// index it was applied at, or says in a SyncError what its failure means.
    static func send(_ operations: [KVOperation], kv: any KVStore, target: MappingTarget, options: SyncOptions) async throws(SyncError) -> UInt64 {
        if let throttle = options.throttle {
            do {
                try await throttle.admit(operations: operations.count)
            } catch {
                throw SyncError(.kv, "writing \(target.prefix): stopped while waiting for the write rate limit")
            }
        }
        do {
            return try await kv.transaction(operations).index
        } catch {
            throw SyncError(transaction: operations, failedWith: error, target: target, options: options)
        }
    }

    static func valueBytes(_ operation: KVOperation) -> Int {
        switch operation {
        case .set(_, let value, _), .cas(_, let value, _, _): value.count
        default: 0
        }
    }
}

extension SyncError {
    /// What a failed transaction of a mapping means: frozen meanwhile, leadership lost, a
    /// conflict on the state (or the rollout stage), or a KV fault.
    init(transaction operations: [KVOperation], failedWith error: KVError, target: MappingTarget, options: SyncOptions) {
        let failed = error.kind == .transactionFailed
            ? error.failures.compactMap { operations.indices.contains($0.operationIndex) ? operations[$0.operationIndex] : nil } : []
        if failed.contains(where: { $0.isFreezeGuard(of: target) }) {
            self.init(.frozen, "\(target.prefix) was frozen while this sync ran; nothing more was written")
        } else if failed.contains(where: { if case .checkSession = $0 { true } else { false } }) {
            self.init(.notLeader, "this replica lost the leader lock \(options.leaderLock?.key ?? ""); it stopped writing \(target.prefix)")
        } else if let key = failed.first(where: { $0.key == target.stateKey || $0.key == target.rolloutKey })?.key {
            self.init(.conflict, "\(key) changed since it was read (another sync wrote it)")
        } else {
            self.init(.kv, "writing \(target.prefix): \(error)")
        }
    }
}
