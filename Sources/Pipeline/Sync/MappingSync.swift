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
        for attempt in 0..<Self.maximumAttempts {
            let baseline = records.load(target, address: address)
            let plan = try await planner.plan(head: head, baseline: baseline, now: Int64(Date().timeIntervalSince1970))
            if dryRun {
                return MappingResult(target: target, plan: plan, transactions: 0, bytesWritten: 0, retries: attempt)
            }
            if plan.isEmpty {
                if plan.mode == .fullCompare || baseline == nil {
                    records.save(SyncRecord(stateIndex: plan.stateIndex, lastWriteIndex: plan.observedPrefixIndex), for: target, address: address)
                }
                return MappingResult(target: target, plan: plan, transactions: 0, bytesWritten: 0, retries: attempt)
            }
            do {
                let outcome = try await writer.write(plan)
                let stateIndex = plan.newState == nil ? plan.stateIndex : outcome.stateIndex
                records.save(
                    SyncRecord(stateIndex: stateIndex, lastWriteIndex: max(outcome.lastWriteIndex, plan.observedPrefixIndex)),
                    for: target, address: address)
                return MappingResult(target: target, plan: plan, transactions: outcome.transactions, bytesWritten: outcome.bytes, retries: attempt)
            } catch where error.kind == .conflict {
                try? await Task.sleep(for: .milliseconds(Int.random(in: 20...200) * (attempt + 1)))
                continue
            }
        }
        throw SyncError(.conflict, "\(target.stateKey) kept changing under this sync (\(Self.maximumAttempts) attempts); is another process syncing it without a leader lock?")
    }
}
