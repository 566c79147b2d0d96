import BundleFormat
import Foundation
import KV
import Pipeline
import StoreFixtures
import TestFixtures
import Testing

/// What an incremental sync reads: on a store that can say cheaply that nothing under the
/// prefix changed (Consul's API), neither the key list nor a state that grows with the bundles.
@Suite("Per-commit cost of a bundle-layout sync", .serialized)
struct QuietPrefixTests {
    static let initialFiles: [FixtureChange] = (0..<3).map { .text("apps/dir-\($0)/f.txt", "\($0)\n") }

    @Test("the state stays the same size whatever the number of bundles")
    func stateSizeIndependentOfBundles() async throws {
        var sizes: [Int] = []
        for count in [3, 300] {
            let harness = try await SyncHarness.start()
            defer { Task { await harness.stop() } }
            try harness.repository.commit("many", changes: (0..<count).map { .text("apps/dir-\($0)/f.txt", "\($0)\n") })
            try await harness.syncClean()
            let state = try #require(try await harness.kv.get("config/apps/.git2kv/state").value)
            #expect(try SyncState.decode(state.value).bundleCount == count)
            #expect(try SyncState.decode(state.value).keys?.count == count + 1)
            sizes.append(state.value.count)
        }
        #expect(sizes[1] - sizes[0] < 16, "state of \(sizes[0]) bytes for 3 bundles, \(sizes[1]) for 300")
    }

    @Test("a one-file commit on an untouched prefix lists no keys; on etcd it lists them", arguments: StoreBackend.allCases)
    func oneFileCommitListsNothing(backend: StoreBackend) async throws {
        let harness = try await SyncHarness.start(backend: backend)
        defer { Task { await harness.stop() } }
        try harness.repository.commit("initial", changes: Self.initialFiles)
        try await harness.syncClean()
        try harness.repository.commit("one", changes: [.text("apps/dir-1/f.txt", "changed\n")])
        let result = try await harness.syncClean()
        #expect(result.plan.mode == .incremental)
        #expect(result.plan.writes.map(\.key) == ["config/apps/dir-1"])
        #expect(result.plan.listedKeys == (backend == .etcd))
        let state = try #require(try await harness.state())
        #expect(state.bundleCount == 3)
        #expect(state.keys == KeySummary(try await harness.entries().keys))

        // A new bundle and a deleted one keep the count and the key summary exact.
        try harness.repository.commit("add and remove", changes: [.text("apps/dir-9/f.txt", "9\n"), .delete("apps/dir-0/f.txt")])
        let second = try await harness.syncClean()
        #expect(second.plan.deletes == ["config/apps/dir-0"])
        let after = try #require(try await harness.state())
        #expect(after.bundleCount == 3)
        #expect(after.keys == KeySummary(try await harness.entries().keys))
        #expect(try await harness.syncClean().plan.mode == .upToDate)
    }

    @Test("a hand edit before a commit to another bundle is found and repaired by that sync", arguments: StoreBackend.allCases)
    func handEditBeforeAnotherCommit(backend: StoreBackend) async throws {
        let harness = try await SyncHarness.start(backend: backend)
        defer { Task { await harness.stop() } }
        try harness.repository.commit("initial", changes: Self.initialFiles)
        try await harness.syncClean()
        try await harness.kv.put("config/apps/dir-0", value: Array("hand edit".utf8))
        try harness.repository.commit("other", changes: [.text("apps/dir-2/f.txt", "changed\n")])
        let result = try await harness.syncClean()
        #expect(result.plan.mode == .fullCompare)
        #expect(result.plan.listedKeys)
        #expect(result.plan.drift == ["config/apps/dir-0 differed from git; rewritten"])
        #expect(try await harness.bundle("config/apps/dir-0")?.files.first?.content == Array("0\n".utf8))
    }

    @Test("a bundle deleted by hand is found without any commit", arguments: StoreBackend.allCases)
    func handDeleteWithoutCommit(backend: StoreBackend) async throws {
        let harness = try await SyncHarness.start(backend: backend)
        defer { Task { await harness.stop() } }
        try harness.repository.commit("initial", changes: Self.initialFiles)
        try await harness.syncClean()
        try await harness.kv.delete("config/apps/dir-1")
        let result = try await harness.syncClean()
        #expect(result.plan.drift == ["config/apps/dir-1 was missing; rewritten"])
        #expect(try await harness.kv.get("config/apps/dir-1").value != nil)
    }

    @Test("a state written by the previous version (one record per bundle) is read, then replaced after one full compare")
    func legacyState() async throws {
        let harness = try await SyncHarness.start()
        defer { Task { await harness.stop() } }
        try harness.repository.commit("initial", changes: Self.initialFiles)
        try await harness.syncClean()
        let entry = try #require(try await harness.kv.get("config/apps/.git2kv/state").value)
        var json = try #require(try JSONSerialization.jsonObject(with: Data(entry.value)) as? [String: Any])
        json["version"] = 1
        json["bundles"] = ["dir-0": ["digest": "x", "commit": "y", "size": 1]]
        for key in ["bundle_count", "chunked", "keys"] { json[key] = nil }
        let legacy = try JSONSerialization.data(withJSONObject: json)
        try await harness.kv.put("config/apps/.git2kv/state", value: Array(legacy))
        #expect(try SyncState.decode(Array(legacy)).isLegacy)

        let result = try await harness.syncClean()
        #expect(result.plan.mode == .fullCompare)
        #expect(result.plan.reason.contains("older git2kv"))
        #expect(result.plan.drift.isEmpty)
        let state = try #require(try await harness.state())
        #expect(state.version == SyncState.currentVersion)
        #expect(state.bundleCount == 3)
        #expect(try await harness.syncClean().plan.mode == .upToDate)
    }

    @Test("the key summary is the same built at once or one key at a time, in any order")
    func keySummaryUpdates() {
        let keys = (0..<50).map { "config/apps/dir-\($0)" }
        var summary = KeySummary(keys.prefix(10))
        for key in keys.dropFirst(10).reversed() { summary.insert(key) }
        #expect(summary == KeySummary(keys.shuffled()))
        summary.remove("config/apps/dir-7")
        #expect(summary == KeySummary(keys.filter { $0 != "config/apps/dir-7" }))
        #expect(summary != KeySummary(keys))
    }
}
