import BundleFormat
import Foundation
import GitKit
import KV

/// The first step of a staged rollout: a new commit's changed bundles go to their canary keys
/// (`P/.git2kv/canary/<bundle>`, chunks beside them), and the stage to `P/.git2kv/rollout`,
/// guarded by the state (the live commit has not moved), the stage (no other replica staged
/// meanwhile), the freeze key and the leader lock. The live bundles and state stay as they are:
/// the fleet sees nothing until the promotion writes the commit the usual way.
struct StageWriter: Sendable {
    enum Outcome: Sendable {
        /// Nothing to stage: the plan is written the usual way (no bundle changes), after any
        /// stage for another commit was dropped.
        case notStaged
        /// The head is already the stage's commit.
        case inProgress(RolloutStage)
        /// The canary values and stage were written.
        case staged(RolloutStage, transactions: Int, bytes: Int, lastIndex: UInt64)
    }

    let kv: any KVStore
    let options: SyncOptions

    func stage(_ plan: SyncPlan, now: Int64) async throws(SyncError) -> Outcome {
        let target = plan.target
        let read = try await RolloutStage.read(target, from: kv)
        let current = read?.stage
        let stageIndex = read?.index ?? 0
        if let current, current.commit == plan.head { return .inProgress(current) }
        // Nothing to stage: no bundle changes, or no live commit yet (the first sync of a prefix
        // goes to everyone; there is nothing on the fleet a canary could protect).
        guard !plan.writes.isEmpty, plan.previousState != nil else {
            if current != nil { try await drop(target, stageIndex: stageIndex) }
            return .notStaged
        }
        let stage = RolloutStage(
            commit: plan.head, liveCommit: plan.previousState?.commit.id, bundles: plan.writes.map(\.bundle).sorted(), startedAt: now,
            host: ProcessInfo.processInfo.hostName)
        let guards = options.standingGuards(for: target) + [
            plan.stateIndex == 0 ? .checkNotExists(key: target.stateKey) : .checkIndex(key: target.stateKey, index: plan.stateIndex)
        ]
        var outcome = (transactions: 0, bytes: 0, lastIndex: UInt64(0))
        let stageGuard: KVOperation = stageIndex == 0 ? .checkNotExists(key: target.rolloutKey) : .checkIndex(key: target.rolloutKey, index: stageIndex)
        if current != nil {
            // On its own: etcd refuses a transaction that deletes a range and writes inside it.
            outcome.lastIndex = try await run(guards + [stageGuard, .deleteTree(prefix: target.canaryPrefix)], target)
            outcome.transactions += 1
        }
        var writes: [KVOperation] = []
        for write in plan.writes {
            let canaryKey = target.canaryKey(write.bundle)
            for chunk in write.chunks {
                writes.append(.set(key: ChunkManifest.chunkKey(chunk.sha256, besideBundleKey: canaryKey), value: chunk.bytes))
            }
            writes.append(.set(key: canaryKey, value: write.value))
        }
        let stageWrite = KVOperation.cas(key: target.rolloutKey, value: stage.encoded(), index: stageIndex)
        let packer = TransactionPacker(limits: kv.limits)
        // When the canary values need several transactions, the stage goes last: until it is
        // written, the daemon does not count canary reports for the commit.
        for operations in packer.pack(writes, guards: guards, last: stageWrite) {
            outcome.lastIndex = try await run(operations, target)
            outcome.transactions += 1
            outcome.bytes += operations.reduce(0) { $0 + PlanWriter.valueBytes($1) }
        }
        return .staged(stage, transactions: outcome.transactions, bytes: outcome.bytes, lastIndex: outcome.lastIndex)
    }

    /// Removes the canary values and the stage (the head went back to the live commit, or a
    /// rollback wrote another commit).
    @discardableResult
    func drop(_ target: MappingTarget, stageIndex: UInt64) async throws(SyncError) -> UInt64 {
        var operations = options.standingGuards(for: target)
        operations += [.deleteTree(prefix: target.canaryPrefix), .deleteCAS(key: target.rolloutKey, index: stageIndex)]
        return try await run(operations, target)
    }

    private func run(_ operations: [KVOperation], _ target: MappingTarget) async throws(SyncError) -> UInt64 {
        try await PlanWriter.send(operations, kv: kv, target: target, options: options)
    }
}
