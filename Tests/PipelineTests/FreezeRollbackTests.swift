import Foundation
import KV
import Pipeline
import TestFixtures
import Testing

/// `freeze`, `rollback` and `unfreeze` of a prefix, and a sync meeting a frozen prefix.
@Suite struct FreezeRollbackTests {
    @Test func freezeRollbackUnfreeze() async throws {
        let harness = try await SyncHarness.start()
        defer { Task { await harness.stop() } }
        let first = try harness.repository.commit("v1", changes: [.text("apps/web/port", "80")])
        try await harness.syncClean()
        let second = try harness.repository.commit("v2", changes: [.text("apps/web/port", "81")])
        try await harness.syncClean()
        #expect(try await harness.state()?.commit.id == second)

        let control = PrefixControl(config: harness.config)
        let result = try await control.rollback("config/apps", to: String(first.prefix(8)), reason: "bad port", fetch: true)
        #expect(result.plan.head == first)
        let state = try #require(try await harness.state())
        #expect(state.commit.id == first)
        #expect(state.kind == "rollback")
        #expect(state.previousCommit == second)
        #expect(try await harness.bundle("config/apps/web")?.files.first?.content == Array("80".utf8))

        // Frozen: a sync skips the prefix (not a failure) and writes nothing.
        let third = try harness.repository.commit("v3", changes: [.text("apps/web/port", "82")])
        let indexBefore = try await harness.kv.get("config/apps/.git2kv/state").value?.modifyIndex
        let report = await harness.sync()
        #expect(report.succeeded)
        #expect(report.failures.first?.error.kind == .frozen)
        #expect(report.failures.first?.error.message.contains("bad port") == true)
        #expect(try await harness.kv.get("config/apps/.git2kv/state").value?.modifyIndex == indexBefore)
        let statuses = await SyncRunner(config: harness.config).statuses().statuses
        #expect(statuses.first?.frozen?.reason == "bad port")
        #expect(statuses.first?.frozen?.rollbackTo == first)
        #expect(statuses.first?.text.contains("frozen: bad port") == true)

        // The freeze key is not drift: after unfreezing, the sync goes to the head and repairs nothing.
        // (Removing the freeze moves the prefix's index, so this one pass compares the whole tree.)
        let lifted = try await control.unfreeze("config/apps/")
        #expect(lifted?.reason == "bad port")
        #expect(try await control.unfreeze("config/apps") == nil)
        let resumed = try await harness.syncClean()
        #expect(resumed.plan.head == third)
        #expect(resumed.plan.drift.isEmpty)
        #expect(try await harness.state()?.commit.id == third)
        #expect(try await harness.bundle("config/apps/web")?.files.first?.content == Array("82".utf8))
    }

    @Test func freezeWrittenByHandStillFreezes() async throws {
        let harness = try await SyncHarness.start()
        defer { Task { await harness.stop() } }
        try harness.repository.commit("v1", changes: [.text("apps/web/port", "80")])
        try await harness.syncClean()
        try harness.repository.commit("v2", changes: [.text("apps/web/port", "81")])
        // Not our JSON, and written straight to KV: it freezes all the same, its text as the reason.
        try await harness.kv.put("config/apps/.git2kv/freeze", value: Array("incident 4711".utf8))
        let report = await harness.sync()
        #expect(report.failures.first?.error.kind == .frozen)
        #expect(report.failures.first?.error.message.contains("incident 4711") == true)
        #expect(try await harness.bundle("config/apps/web")?.files.first?.content == Array("80".utf8))
    }

    @Test func unknownPrefixAndCommitAreClearErrors() async throws {
        let harness = try await SyncHarness.start()
        defer { Task { await harness.stop() } }
        try harness.repository.commit("v1", changes: [.text("apps/web/port", "80")])
        try await harness.syncClean()
        let control = PrefixControl(config: harness.config)
        await #expect(throws: SyncError.self) { try await control.freeze("config/other", reason: "x") }
        do {
            _ = try await control.rollback("config/apps", to: "0123456789abcdef0123456789abcdef01234567", reason: nil, fetch: true)
            Issue.record("a rollback to an unknown commit went through")
        } catch {
            #expect(error.kind == .missingReference)
        }
        let statuses = await SyncRunner(config: harness.config).statuses().statuses
        #expect(statuses.first?.frozen == nil, "a failed rollback left the prefix frozen")
    }
}
