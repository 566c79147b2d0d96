public import BundleFormat
import Foundation
import Synchronization
import GitKit
import ConfigParsing
public import KV

/// Moves a staged rollout on: reads the stage, the freeze and the delivery reports (one
/// recursive read), asks CanaryVerdict what to do, and does it — starts the bake, freezes the
/// prefix when a canary failed, or promotes the commit to the fleet. Everything it decides from
/// is in KV, so whichever replica leads carries on where another stopped.
public struct RolloutSupervisor: Sendable {
    public enum Step: Sendable {
        /// No stage under the prefix.
        case idle
        case waiting(RolloutStage, CanaryVerdict)
        case bakeStarted(RolloutStage, CanaryVerdict)
        case bakeReset(RolloutStage, CanaryVerdict)
        case halted(RolloutStage, reason: String)
        /// Halted earlier, still frozen.
        case stillHalted(RolloutStage)
        /// Frozen by an operator while in the canary stage: nothing moves.
        case frozen(RolloutStage)
        case promoted(RolloutStage, MappingResult, byUnfreeze: Bool)
    }

    public let runner: SyncRunner
    /// The reports last read, so a tick whose reports did not change costs one small read.
    public let reportsCache: ReportsCache

    public init(runner: SyncRunner, reportsCache: ReportsCache = ReportsCache()) {
        self.runner = runner
        self.reportsCache = reportsCache
    }

    /// One look at `target`'s stage, acting on what it finds.
    public func step(
        _ repo: RepoConfig, _ target: MappingTarget, options: SyncOptions, now: Int64
    ) async throws(SyncError) -> (step: Step, unreadableReports: [String]) {
        guard let rollout = target.mapping.rollout else { return (.idle, []) }
        let kv = try KVConnection.openForSync(runner.config.kv, token: target.mapping.token)
        guard let (current, stageIndex) = try await RolloutStage.read(target, from: kv) else { return (.idle, []) }
        var stage = current
        let freezeRead = try await KVCall.run("read \(target.freezeKey)") { () throws(KVError) in try await kv.get(target.freezeKey) }
        let frozen = freezeRead.value != nil
        if frozen, stage.halted == nil { return (.frozen(stage), []) }
        let (reports, unreadable) = try await reportsCache.read(kv, prefix: runner.config.reportsPrefix)
        let bundleKeys = Set(stage.bundles.map(target.bundleKey))
        let verdict = CanaryVerdict.judge(stage: stage, bundleKeys: bundleKeys, rollout: rollout, reports: reports, frozen: frozen, now: now)
        let guards = options.leaderLock.map { [KVOperation.checkSession(key: $0.key, session: $0.session)] } ?? []
        switch verdict.decision {
        case .wait:
            return (.waiting(stage, verdict), unreadable)
        case .halted:
            return (.stillHalted(stage), unreadable)
        case .startBake, .resetBake:
            let starting = verdict.decision == CanaryVerdict.Decision.startBake
            stage.bakingSince = starting ? now : nil
            try await write(guards + [.cas(key: target.rolloutKey, value: stage.encoded(), index: stageIndex)], kv, target, options)
            return (starting ? .bakeStarted(stage, verdict) : .bakeReset(stage, verdict), unreadable)
        case .halt(let reason):
            stage.halted = RolloutStage.Halt(reason: reason, at: now)
            let record = FreezeRecord(reason: reason, frozenAt: now, host: ProcessInfo.processInfo.hostName, rolloutCommit: stage.commit)
            try await write(
                guards + [
                    .cas(key: target.rolloutKey, value: stage.encoded(), index: stageIndex),
                    .cas(key: target.freezeKey, value: record.encoded(), index: 0),
                ], kv, target, options)
            return (.halted(stage, reason: reason), unreadable)
        case .promote:
            var promoting = options
            promoting.promoting = stageIndex
            let result = try await promote(stage, repo: repo, target: target, kv: kv, options: promoting)
            return (.promoted(stage, result, byUnfreeze: stage.halted != nil), unreadable)
        }
    }

    /// A stage left under a mapping that no longer has `rollout:` would keep its canary nodes on
    /// the canary commit while the fleet moves on: it is dropped (canary values and stage).
    /// Returns the stage dropped, if any.
    public func dropStrayStage(_ target: MappingTarget, options: SyncOptions) async throws(SyncError) -> RolloutStage? {
        guard target.mapping.rollout == nil else { return nil }
        let kv = try KVConnection.openForSync(runner.config.kv, token: target.mapping.token)
        let read = try await KVCall.run("read \(target.rolloutKey)") { () throws(KVError) in try await kv.get(target.rolloutKey) }
        guard let entry = read.value else { return nil }
        let stage = try? RolloutStage.decode(entry.value, key: target.rolloutKey)
        try await StageWriter(kv: kv, options: options).drop(target, stageIndex: entry.modifyIndex)
        return stage ?? RolloutStage(commit: "unknown", liveCommit: nil, bundles: [], startedAt: 0, host: "unknown")
    }

    /// Every report under the prefix (one recursive read), with the index it was read at; a
    /// value that is not a report is named and skipped, never fatal.
    public static func readReports(_ kv: any KVStore, prefix: String) async throws(SyncError) -> (reports: [DeliveryReport], unreadable: [String], index: UInt64) {
        let directory = DeliveryReport.directory(prefix: prefix)
        let listing = try await KVCall.run("read the delivery reports under \(directory)") { () throws(KVError) in try await kv.list(prefix: directory) }
        var reports: [DeliveryReport] = []
        var unreadable: [String] = []
        for entry in listing.value {
            do {
                reports.append(try DeliveryReport.decode(entry.value, key: entry.key))
            } catch {
                unreadable.append(error.message)
            }
        }
        return (reports, unreadable, listing.index)
    }

    private func promote(
        _ stage: RolloutStage, repo: RepoConfig, target: MappingTarget, kv: any KVStore, options: SyncOptions
    ) async throws(SyncError) -> MappingResult {
        try await runner.withMirror(of: repo) { repository throws(SyncError) in
            guard let id = try? await repository.resolveCommit(stage.commit) else {
                throw SyncError(.missingReference, "the canary commit \(stage.commit.prefix(12)) of \(target.prefix) is not in the mirror of \(repo.name)")
            }
            let sync = MappingSync(target: target, kv: kv, address: runner.config.kv.address, repository: repository, records: runner.records)
            return try await sync.run(head: id, options: options)
        }
    }

    private func write(_ operations: [KVOperation], _ kv: any KVStore, _ target: MappingTarget, _ options: SyncOptions) async throws(SyncError) {
        _ = try await PlanWriter.send(operations, kv: kv, target: target, options: options)
    }
}

/// The delivery reports last read, with the index they were read at. While a stage waits, the
/// leader asks the store only whether anything under the reports prefix changed (Consul: a key
/// listing cut at the prefix, a few bytes), and reads the reports again only when it did.
public final class ReportsCache: Sendable {
    private struct Cached {
        var prefix = ""
        var index: UInt64 = 0
        var reports: [DeliveryReport] = []
        var unreadable: [String] = []
        var wholeReads = 0
    }

    private let last = Mutex(Cached())

    public init() {}

    func read(_ kv: any KVStore, prefix: String) async throws(SyncError) -> (reports: [DeliveryReport], unreadable: [String]) {
        let directory = DeliveryReport.directory(prefix: prefix)
        if let cached = last.withLock({ $0.wholeReads > 0 ? $0 : nil }), cached.prefix == directory,
            let index = try await KVCall.run("read the index of \(directory)", { () throws(KVError) in try await kv.changeIndex(under: directory) }),
            index == cached.index
        {
            return (cached.reports, cached.unreadable)
        }
        let read = try await RolloutSupervisor.readReports(kv, prefix: directory)
        last.withLock { $0 = Cached(prefix: directory, index: read.index, reports: read.reports, unreadable: read.unreadable, wholeReads: $0.wholeReads + 1) }
        return (read.reports, read.unreadable)
    }

    /// How many times the reports were read whole (for tests).
    public var fullReads: Int { last.withLock { $0.wholeReads } }
}
