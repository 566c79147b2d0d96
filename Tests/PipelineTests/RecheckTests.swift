import Foundation
import KV
import Pipeline
import TestFixtures
import Testing

/// What a sync says after the rules or KV changed under it: refusals are re-checked when the
/// limits change, and drift repairs stay visible until a check finds none.
@Suite("Re-checks and drift reports")
struct RecheckTests {
    @Test("raising max_file_size makes the next sync check the refused file again, at the same commit")
    func changedLimitRechecks() async throws {
        let strict = try await SyncHarness.start(mappings: "[{source: apps, prefix: config/apps, validation: {max_file_size: 1KiB}}]")
        defer { Task { await strict.stop() } }
        try strict.repository.commit(
            "big", changes: [.text("apps/web/app.json", #"{"port": 80}"#), .write("apps/big/data.bin", Array(repeating: 0x62, count: 4096))])
        let refused = try #require(await strict.sync().results.first)
        #expect(refused.plan.outstandingErrors.count == 1)
        let unchanged = try #require(await strict.sync().results.first)
        #expect(unchanged.plan.mode == .upToDate, "same rules, same commit: nothing to check")

        let relaxed = try strict.withMappings("[{source: apps, prefix: config/apps, validation: {max_file_size: 1MiB}}]")
        let rechecked = try #require(await relaxed.sync().results.first)
        #expect(rechecked.plan.mode == .fullCompare)
        #expect(rechecked.plan.reason.contains("checks changed"))
        #expect(rechecked.plan.outstandingErrors.isEmpty)
        #expect(try await relaxed.bundle("config/apps/big")?.files.count == 1)
    }

    @Test("a drift repair stays in the state and in status after later commits")
    func driftStaysVisible() async throws {
        let harness = try await SyncHarness.start()
        defer { Task { await harness.stop() } }
        try harness.repository.commit("initial", changes: [.text("apps/web/app.json", #"{"port": 80}"#), .text("apps/api/a.txt", "a")])
        try await harness.syncClean()
        _ = try await harness.kv.put("config/apps/web", value: Array("edited by hand".utf8))
        let repaired = try await harness.syncClean()
        #expect(!repaired.plan.drift.isEmpty)
        try harness.repository.commit("next", changes: [.text("apps/api/a.txt", "b")])
        let next = try await harness.syncClean()
        #expect(next.plan.mode == .incremental)
        let state = try #require(try await harness.state())
        #expect(state.drift == repaired.plan.drift, "an incremental pass does not look for drift, so it keeps the last report")
        let status = await MappingStatus.read(target: next.target, kv: harness.kv, repository: nil)
        #expect(status.text.contains("repaired: config/apps/web"))
    }
}
