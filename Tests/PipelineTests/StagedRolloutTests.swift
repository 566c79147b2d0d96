import BundleFormat
import Foundation
import KV
import Pipeline
import TestFixtures
import Testing

/// Staged rollouts in the sync: what goes to the canary keys, what the fleet's keys keep, and
/// how the supervisor moves a stage on from the nodes' reports.
@Suite struct StagedRolloutTests {
    static let mappings = #"[{source: apps, prefix: config/apps, rollout: {canary: {nodes: ["canary-*"], min_nodes: 2, bake: 0s}}}]"#

    static func report(_ node: String, canary: Bool = true, commit: String, outcome: DeliveryReport.Outcome = .delivered, failed: String? = nil) -> DeliveryReport {
        DeliveryReport(
            node: node, canary: canary, reportedAt: 1,
            outputs: [
                DeliveryReport.Output(
                    destination: "/etc/web.conf", bundle: "config/apps/web", commit: commit, digest: "d", outcome: outcome,
                    reason: failed == nil ? nil : "nginx -t: bad", failedCommit: failed, deliveredAt: 1, canary: canary)
            ])
    }

    func publish(_ reports: [DeliveryReport], to kv: any KVStore) async throws {
        for report in reports { _ = try await kv.put(DeliveryReport.key(prefix: DeliveryReport.defaultPrefix, node: report.node), value: report.encoded()) }
    }

    @Test("a new commit goes to the canary keys only; the fleet's bundle and state keep the live commit; the canary keys are not drift")
    func stagesNewCommit() async throws {
        let harness = try await SyncHarness.start(mappings: Self.mappings)
        defer { Task { await harness.stop() } }
        let live = try harness.repository.commit("v1", changes: [.text("apps/web/port", "80"), .text("apps/db/port", "5432")])
        let first = try await harness.syncClean()
        #expect(first.stage == nil, "the first sync has no live commit to protect: straight to the fleet")
        let next = try harness.repository.commit("v2", changes: [.text("apps/web/port", "81")])
        let staged = try await harness.syncClean()
        #expect(staged.staged && staged.stage?.commit == next && staged.stage?.bundles == ["web"])
        #expect(try await harness.state()?.commit.id == live)
        #expect(try await harness.bundle("config/apps/web")?.files.first?.content == Array("80".utf8))
        #expect(try await harness.bundle("config/apps/.git2kv/canary/web")?.files.first?.content == Array("81".utf8))
        #expect(try await harness.bundle("config/apps/.git2kv/canary/db") == nil, "an unchanged bundle has no canary value")

        // The same head again: the stage is in progress, nothing is written, nothing looks like drift.
        let index = try await harness.kv.changeIndex(under: "config/apps/")
        let again = try await harness.syncClean()
        #expect(!again.staged && again.stage?.commit == next && again.transactions == 0)
        #expect(again.plan.drift.isEmpty)
        #expect(try await harness.kv.changeIndex(under: "config/apps/") == index)

        // The head goes back to the live content: nothing to stage, the stage and its canary values go.
        try harness.repository.commit("revert", changes: [.text("apps/web/port", "80")])
        let reverted = try await harness.syncClean()
        #expect(reverted.stage == nil && reverted.plan.writes.isEmpty)
        #expect(try await harness.kv.get("config/apps/.git2kv/rollout").value == nil)
        #expect(try await harness.kv.keys(prefix: "config/apps/.git2kv/canary/", separator: nil, options: .default).value.isEmpty)
        #expect(try await harness.state()?.commit.id == live, "no bundle changed: the state is not rewritten")
    }

    @Test("a bundle over the value limit is staged with its chunks beside the canary key, and they go with the stage")
    func chunkedCanary() async throws {
        let harness = try await SyncHarness.start(mappings: Self.mappings)
        defer { Task { await harness.stop() } }
        try harness.repository.commit("v1", changes: [.text("apps/web/port", "80")])
        try await harness.syncClean()
        var generator = SeededGenerator(seed: 7)
        let big = String((0..<700_000).map { _ in "abcdefghijklmnopqrstuvwxyz0123456789".randomElement(using: &generator)! })
        try harness.repository.commit("big", changes: [.text("apps/web/blob.txt", big)])
        let staged = try await harness.syncClean()
        #expect(staged.staged)
        let canaryKeys = try await harness.kv.keys(prefix: "config/apps/.git2kv/canary/", separator: nil, options: .default).value
        #expect(canaryKeys.contains { $0.hasPrefix("config/apps/.git2kv/canary/.git2kv/chunks/") }, "\(canaryKeys)")
        let liveChunks = try await harness.kv.keys(prefix: "config/apps/.git2kv/chunks/", separator: nil, options: .default).value
        #expect(liveChunks.isEmpty, "the fleet's chunk directory does not hold canary chunks")

        let kv = harness.kv
        try await publish([Self.report("canary-1", commit: staged.plan.head), Self.report("canary-2", commit: staged.plan.head)], to: kv)
        let target = try #require(SyncRunner(config: harness.config).targets(of: harness.config.repos[0], reference: "main", isTag: false).first)
        let step = try await RolloutSupervisor(runner: SyncRunner(config: harness.config)).step(harness.config.repos[0], target, options: SyncOptions(), now: 10)
        guard case .promoted = step.step else { Issue.record("expected a promotion, got \(step.step)"); return }
        #expect(try await harness.state()?.commit.id == staged.plan.head)
        let left = try await harness.kv.keys(prefix: "config/apps/.git2kv/canary/", separator: nil, options: .default).value
        #expect(left.isEmpty)
        #expect(try await harness.kv.get("config/apps/.git2kv/rollout").value == nil)
        let promoted = try await harness.syncClean()
        #expect(promoted.plan.isEmpty && promoted.plan.drift.isEmpty, "promotion wrote exactly what a sync would")
        #expect(promoted.plan.mode != .fullCompare, "the stage's removal is the promotion's own write, not drift: \(promoted.plan.reason)")
    }

    @Test("a canary failure freezes the prefix; an operator's freeze stays for a new commit, the rollout's is lifted by one")
    func haltAndResume() async throws {
        let harness = try await SyncHarness.start(mappings: Self.mappings)
        defer { Task { await harness.stop() } }
        try harness.repository.commit("v1", changes: [.text("apps/web/port", "80")])
        try await harness.syncClean()
        let bad = try harness.repository.commit("bad", changes: [.text("apps/web/port", "x")])
        try await harness.syncClean()
        try await publish([Self.report("canary-1", commit: "old", outcome: .checkFailed, failed: bad), Self.report("canary-2", commit: bad)], to: harness.kv)
        let runner = SyncRunner(config: harness.config)
        let target = try #require(runner.targets(of: harness.config.repos[0], reference: "main", isTag: false).first)
        let supervisor = RolloutSupervisor(runner: runner)
        let halted = try await supervisor.step(harness.config.repos[0], target, options: SyncOptions(), now: 20).step
        guard case .halted(_, let reason) = halted else { Issue.record("expected a halt, got \(halted)"); return }
        #expect(reason.contains("canary-1") && reason.contains("check_failed") && reason.contains("nginx -t: bad"))
        let freeze = try #require(try await harness.kv.get("config/apps/.git2kv/freeze").value.map { FreezeRecord.decode($0.value) })
        #expect(freeze.rolloutCommit == bad)
        guard case .stillHalted = try await supervisor.step(harness.config.repos[0], target, options: SyncOptions(), now: 21).step else {
            Issue.record("a halted stage stays halted while frozen"); return
        }
        let statuses = await SyncRunner(config: harness.config).statuses().statuses
        #expect(statuses.first?.rollout?.phase == "halted")
        #expect(statuses.first?.text.contains("rollout: halted") == true)

        // A fixed commit lifts the rollout's own freeze and is staged in place of the bad one.
        let fixed = try harness.repository.commit("fix", changes: [.text("apps/web/port", "81")])
        let restaged = try await harness.syncClean()
        #expect(restaged.stage?.commit == fixed && restaged.staged)
        #expect(try await harness.kv.get("config/apps/.git2kv/freeze").value == nil)

        // An operator's freeze is not lifted by a new commit.
        try await PrefixControl(config: harness.config).freeze("config/apps", reason: "change freeze")
        try harness.repository.commit("more", changes: [.text("apps/web/port", "82")])
        let report = await harness.sync()
        #expect(report.failures.first?.error.kind == .frozen)
        guard case .frozen = try await supervisor.step(harness.config.repos[0], target, options: SyncOptions(), now: 30).step else {
            Issue.record("an operator's freeze stops the stage"); return
        }
    }

    @Test("an unfreeze after a halt promotes the halted commit (the operator overrides the canaries); a rollback drops the stage")
    func unfreezeAndRollback() async throws {
        let harness = try await SyncHarness.start(mappings: Self.mappings)
        defer { Task { await harness.stop() } }
        let first = try harness.repository.commit("v1", changes: [.text("apps/web/port", "80")])
        try await harness.syncClean()
        let second = try harness.repository.commit("v2", changes: [.text("apps/web/port", "81")])
        try await harness.syncClean()
        try await publish([Self.report("canary-1", commit: first, outcome: .checkFailed, failed: second)], to: harness.kv)
        let runner = SyncRunner(config: harness.config)
        let target = try #require(runner.targets(of: harness.config.repos[0], reference: "main", isTag: false).first)
        let supervisor = RolloutSupervisor(runner: runner)
        _ = try await supervisor.step(harness.config.repos[0], target, options: SyncOptions(), now: 1)
        _ = try await PrefixControl(config: harness.config).unfreeze("config/apps")
        guard case .promoted(_, _, let byUnfreeze) = try await supervisor.step(harness.config.repos[0], target, options: SyncOptions(), now: 2).step else {
            Issue.record("expected the unfreeze to promote"); return
        }
        #expect(byUnfreeze)
        #expect(try await harness.state()?.commit.id == second)

        try harness.repository.commit("v3", changes: [.text("apps/web/port", "82")])
        #expect(try await harness.syncClean().staged)
        _ = try await PrefixControl(config: harness.config).rollback("config/apps", to: first, reason: "bad", fetch: false)
        #expect(try await harness.kv.get("config/apps/.git2kv/rollout").value == nil, "a rollback ends the stage")
        #expect(try await harness.kv.keys(prefix: "config/apps/.git2kv/canary/", separator: nil, options: .default).value.isEmpty)
        #expect(try await harness.state()?.commit.id == first)
    }

    @Test("a mapping whose rollout was removed drops the stage it left, so its canary nodes follow the fleet again")
    func strayStage() async throws {
        let harness = try await SyncHarness.start(mappings: Self.mappings)
        defer { Task { await harness.stop() } }
        try harness.repository.commit("v1", changes: [.text("apps/web/port", "80")])
        try await harness.syncClean()
        let next = try harness.repository.commit("v2", changes: [.text("apps/web/port", "81")])
        #expect(try await harness.syncClean().staged)
        let plain = try harness.withMappings("[{source: apps, prefix: config/apps}]")
        let runner = SyncRunner(config: plain.config)
        let target = try #require(runner.targets(of: plain.config.repos[0], reference: "main", isTag: false).first)
        let dropped = try await RolloutSupervisor(runner: runner).dropStrayStage(target, options: SyncOptions())
        #expect(dropped?.commit == next)
        #expect(try await harness.kv.get("config/apps/.git2kv/rollout").value == nil)
        #expect(try await harness.kv.keys(prefix: "config/apps/.git2kv/canary/", separator: nil, options: .default).value.isEmpty)
        #expect(try await RolloutSupervisor(runner: runner).dropStrayStage(target, options: SyncOptions()) == nil)
        let synced = try await plain.syncClean()
        #expect(synced.stage == nil && synced.plan.head == next, "without rollout the commit goes to the fleet")
        #expect(try await harness.state()?.commit.id == next)
    }

    @Test("unreadable reports are named and skipped; they neither count nor stop the stage")
    func forgedReports() async throws {
        let harness = try await SyncHarness.start(mappings: Self.mappings)
        defer { Task { await harness.stop() } }
        try harness.repository.commit("v1", changes: [.text("apps/web/port", "80")])
        try await harness.syncClean()
        let next = try harness.repository.commit("v2", changes: [.text("apps/web/port", "81")])
        try await harness.syncClean()
        _ = try await harness.kv.put("git2kv/reports/canary-9", value: Array("{not json".utf8))
        _ = try await harness.kv.put("git2kv/reports/canary-8", value: [UInt8](repeating: 0x20, count: DeliveryReport.maximumSize + 1))
        try await publish([Self.report("canary-1", commit: next), Self.report("web-1", canary: false, commit: next)], to: harness.kv)
        let runner = SyncRunner(config: harness.config)
        let target = try #require(runner.targets(of: harness.config.repos[0], reference: "main", isTag: false).first)
        let cache = ReportsCache()
        let supervisor = RolloutSupervisor(runner: runner, reportsCache: cache)
        let (step, unreadable) = try await supervisor.step(harness.config.repos[0], target, options: SyncOptions(), now: 1)
        #expect(unreadable.count == 2 && unreadable.contains { $0.contains("canary-9") } && unreadable.contains { $0.contains("over the") })
        guard case .waiting(_, let verdict) = step else { Issue.record("one canary of two: waiting, got \(step)"); return }
        #expect(verdict.healthy == ["canary-1"], "a fleet node's report never counts as a canary")
        // Nothing changed under the reports: the next tick asks for the index only.
        _ = try await supervisor.step(harness.config.repos[0], target, options: SyncOptions(), now: 2)
        #expect(cache.fullReads == 1)
        try await publish([Self.report("canary-2", commit: next)], to: harness.kv)
        let (promoting, _) = try await supervisor.step(harness.config.repos[0], target, options: SyncOptions(), now: 3)
        #expect(cache.fullReads == 2, "a new report is read")
        guard case .promoted = promoting else { Issue.record("two healthy canaries, bake 0 s: promoted, got \(promoting)"); return }
        let status = try await RolloutStatus.read(config: harness.config, argument: "config/apps/web")
        #expect(status.unreadableReports.count == 2)
        #expect(status.bundles.first?.canaryCommit == nil, "promoted: no canary value any more")
        #expect(status.bundles.first?.liveCommit == next)
        #expect(status.text.contains("unreadable report"))
    }
}

@Suite struct CanaryVerdictTests {
    let stage = RolloutStage(commit: "c2", liveCommit: "c1", bundles: ["web"], startedAt: 100, host: "h")
    let rollout = RolloutConfig(canaryNodes: ["canary-*"], minNodes: 2, bake: .seconds(60))
    let keys: Set<String> = ["config/apps/web"]

    func judge(_ reports: [DeliveryReport], stage: RolloutStage? = nil, frozen: Bool = false, now: Int64 = 200) -> CanaryVerdict {
        CanaryVerdict.judge(stage: stage ?? self.stage, bundleKeys: keys, rollout: rollout, reports: reports, frozen: frozen, now: now)
    }

    @Test func waitsForEnoughCanaries() {
        let one = judge([StagedRolloutTests.report("canary-1", commit: "c2"), StagedRolloutTests.report("canary-2", commit: "c1")])
        #expect(one.decision == .wait && one.healthy == ["canary-1"] && one.pending == ["canary-2"])
        let impostor = judge([StagedRolloutTests.report("canary-1", commit: "c2"), StagedRolloutTests.report("canary-3", canary: false, commit: "c2")])
        #expect(impostor.decision == .wait, "a node matching the globs whose renderer is not a canary does not count")
        let outsider = judge([StagedRolloutTests.report("canary-1", commit: "c2"), StagedRolloutTests.report("web-1", commit: "c2")])
        #expect(outsider.decision == .wait, "a canary renderer outside the globs does not count")
    }

    @Test func bakesThenPromotes() {
        let both = [StagedRolloutTests.report("canary-1", commit: "c2"), StagedRolloutTests.report("canary-2", commit: "c2")]
        #expect(judge(both).decision == .startBake)
        var baking = stage
        baking.bakingSince = 180
        #expect(judge(both, stage: baking, now: 239).decision == .wait)
        #expect(judge(both, stage: baking, now: 240).decision == .promote)
        let dropped = [StagedRolloutTests.report("canary-1", commit: "c2"), StagedRolloutTests.report("canary-2", commit: "c2", outcome: .owed)]
        #expect(judge(dropped, stage: baking, now: 240).decision == .resetBake)
    }

    @Test func haltsOnAFailureOfTheStagedCommitOnly() {
        let failed = judge([
            StagedRolloutTests.report("canary-1", commit: "c1", outcome: .checkFailed, failed: "c2"),
            StagedRolloutTests.report("canary-2", commit: "c2", outcome: .commandFailed, failed: "c2"),
        ])
        guard case .halt(let reason) = failed.decision else { Issue.record("expected a halt"); return }
        #expect(reason.contains("canary-1") && reason.contains("and 1 more"))
        let older = judge([StagedRolloutTests.report("canary-1", commit: "c1", outcome: .checkFailed, failed: "c0")])
        #expect(older.decision == .wait, "a failure of an older commit is not this stage's")
        var halted = stage
        halted.halted = .init(reason: "x", at: 1)
        #expect(judge([], stage: halted, frozen: true).decision == .halted)
        #expect(judge([], stage: halted, frozen: false).decision == .promote)
    }
}
