import Foundation
public import GitKit
public import KV

/// What happened to one mapping in one sync pass.
public struct MappingResult: Sendable {
    public let target: MappingTarget
    public let plan: SyncPlan
    /// Transactions sent (0 for a dry run or when up to date).
    public let transactions: Int
    public let bytesWritten: Int
    /// How many times the state changed under us before the write went through.
    public let retries: Int
    /// With a staged rollout: the stage the head is in (written now, or found in progress);
    /// nil when the plan was written to the fleet.
    public var stage: RolloutStage?
    /// The canary values were written in this sync.
    public var staged = false

    init(target: MappingTarget, plan: SyncPlan, transactions: Int, bytesWritten: Int, retries: Int, stage: RolloutStage? = nil, staged: Bool = false) {
        self.target = target
        self.plan = plan
        self.transactions = transactions
        self.bytesWritten = bytesWritten
        self.retries = retries
        self.stage = stage
        self.staged = staged
    }

}

/// Plans and writes one mapping, re-planning when another process wrote the state first.
public struct MappingSync: Sendable {
    public static let maximumAttempts = 5

    let target: MappingTarget
    let kv: any KVStore
    let address: String
    let repository: GitRepository
    let records: SyncRecordStore
    public var progress: (@Sendable (String) -> Void)?

    public init(target: MappingTarget, kv: any KVStore, address: String, repository: GitRepository, records: SyncRecordStore) {
        self.target = target
        self.kv = kv
        self.address = address
        self.repository = repository
        self.records = records
    }

    public func run(head: ObjectID, dryRun: Bool) async throws(SyncError) -> MappingResult {
        try await run(head: head, options: SyncOptions(dryRun: dryRun))
    }

    public func run(head: ObjectID, options: SyncOptions) async throws(SyncError) -> MappingResult {
        let dryRun = options.dryRun
        var planner = SyncPlanner(target: target, kv: kv, repository: repository)
        planner.progress = progress
        planner.purpose = options.purpose
        var writer = PlanWriter(kv: kv, options: options)
        writer.progress = progress
        if target.mapping.rollout != nil, options.purpose == .sync, options.promoting == nil, !dryRun {
            try await liftRolloutFreeze(head: head)
            if let stage = try await stage(of: head) {
                // Polls while a commit bakes on the canaries cost one read, not a plan.
                let plan = SyncPlan(
                    target: target, mode: .upToDate, reason: "in its canary stage", head: head.hex, stateIndex: 0, previousState: nil,
                    observedPrefixIndex: 0)
                return MappingResult(target: target, plan: plan, transactions: 0, bytesWritten: 0, retries: 0, stage: stage)
            }
        }
        for attempt in 0..<Self.maximumAttempts {
            let baseline = records.load(target, address: address)
            let plan = try await planner.plan(head: head, baseline: baseline, now: Int64(Date().timeIntervalSince1970))
            if dryRun {
                return MappingResult(target: target, plan: plan, transactions: 0, bytesWritten: 0, retries: attempt)
            }
            if target.mapping.rollout != nil, options.purpose == .sync, options.promoting == nil {
                let staging: StageWriter.Outcome
                do {
                    staging = try await StageWriter(kv: kv, options: options).stage(plan, now: Int64(Date().timeIntervalSince1970))
                } catch where error.kind == .conflict {
                    try? await Task.sleep(for: .milliseconds(Int.random(in: 20...200) * (attempt + 1)))
                    continue
                }
                switch staging {
                case .notStaged: break
                case .inProgress(let stage):
                    return MappingResult(target: target, plan: plan, transactions: 0, bytesWritten: 0, retries: attempt, stage: stage)
                case .staged(let stage, let transactions, let bytes, let lastIndex):
                    records.save(SyncRecord(stateIndex: plan.stateIndex, lastWriteIndex: max(lastIndex, plan.observedPrefixIndex)), for: target, address: address)
                    return MappingResult(target: target, plan: plan, transactions: transactions, bytesWritten: bytes, retries: attempt, stage: stage, staged: true)
                }
            }
            if plan.isEmpty {
                let ended = try await endStage(options)
                if plan.mode == .fullCompare || baseline == nil || ended != nil {
                    let lastWrite = max(plan.observedPrefixIndex, ended ?? 0, baseline?.lastWriteIndex ?? 0)
                    records.save(SyncRecord(stateIndex: plan.stateIndex, lastWriteIndex: lastWrite), for: target, address: address)
                }
                return MappingResult(target: target, plan: plan, transactions: 0, bytesWritten: 0, retries: attempt)
            }
            do {
                let outcome = try await writer.write(plan)
                // The stage's removal is this sync's own last write: the next sync must not take it for drift.
                let ended = try await endStage(options)
                let stateIndex = plan.newState == nil ? plan.stateIndex : outcome.stateIndex
                records.save(
                    SyncRecord(stateIndex: stateIndex, lastWriteIndex: max(outcome.lastWriteIndex, plan.observedPrefixIndex, ended ?? 0)),
                    for: target, address: address)
                return MappingResult(target: target, plan: plan, transactions: outcome.transactions, bytesWritten: outcome.bytes, retries: attempt)
            } catch where error.kind == .conflict {
                try? await Task.sleep(for: .milliseconds(Int.random(in: 20...200) * (attempt + 1)))
                continue
            }
        }
        throw SyncError(.conflict, "\(target.stateKey) kept changing under this sync (\(Self.maximumAttempts) attempts); is another process syncing it without a leader lock?")
    }

    /// The stage under the prefix when it holds `head` already.
    private func stage(of head: ObjectID) async throws(SyncError) -> RolloutStage? {
        guard let stage = try await RolloutStage.read(target, from: kv)?.stage else { return nil }
        return stage.commit == head.hex ? stage : nil
    }

    /// A freeze a failed canary stage set for another commit: the new head replaces that
    /// commit, so it is lifted (an operator's own freeze stays).
    private func liftRolloutFreeze(head: ObjectID) async throws(SyncError) {
        let read = try await KVCall.run("read \(target.freezeKey)") { () throws(KVError) in try await kv.get(target.freezeKey) }
        guard let entry = read.value, let commit = FreezeRecord.decode(entry.value).rolloutCommit, commit != head.hex else { return }
        _ = try await KVCall.run("delete \(target.freezeKey)") { () throws(KVError) in try await kv.delete(target.freezeKey, cas: entry.modifyIndex) }
        progress?("\(target.prefix): commit \(head.short) replaces the halted canary commit \(commit.prefix(12)); freeze lifted")
    }

    /// After a promotion or a rollback wrote the fleet's keys: the canary values and the stage
    /// go. Returns the index of that removal (nil when there was nothing to remove).
    private func endStage(_ options: SyncOptions) async throws(SyncError) -> UInt64? {
        guard target.mapping.rollout != nil else { return nil }
        let writer = StageWriter(kv: kv, options: options)
        if let stageIndex = options.promoting {
            do {
                return try await writer.drop(target, stageIndex: stageIndex)
            } catch where error.kind == .conflict {
                // A newer commit was staged meanwhile: its canary values stay.
                return nil
            }
        } else if options.purpose == .rollback {
            let read = try await KVCall.run("read \(target.rolloutKey)") { () throws(KVError) in try await kv.get(target.rolloutKey) }
            if let entry = read.value { return try await writer.drop(target, stageIndex: entry.modifyIndex) }
        }
        return nil
    }
}
