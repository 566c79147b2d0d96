import BundleFormat
import Foundation
import KV
import Pipeline
import TestFixtures
import Testing

/// Repository trees written by a careless or hostile committer: each problem blocks only the
/// bundle (or file) it is in, says where it is, and never takes the daemon's memory or stack.
@Suite("Hostile repository trees")
struct HostileTreeTests {
    static let healthy: [FixtureChange] = [.text("apps/web/app.json", #"{"port": 80}"#)]

    @Test("a file over max_file_size is refused from its size alone and blocks only its bundle")
    func oversizedFile() async throws {
        let harness = try await SyncHarness.start(mappings: "[{source: apps, prefix: config/apps, validation: {max_file_size: 1KiB}}]")
        defer { Task { await harness.stop() } }
        try harness.repository.commit(
            "big", changes: Self.healthy + [.write("apps/big/blob.bin", Array(repeating: 0x61, count: 3 << 20))])
        let result = try #require(await harness.sync().results.first)
        let problem = try #require(result.plan.problems.first)
        #expect(problem.bundle == "big")
        #expect(problem.reason.contains("3145728 bytes, over the limit of 1024"), "\(problem.reason)")
        #expect(try await harness.bundle("config/apps/web") != nil)
        #expect(try await harness.kv.get("config/apps/big").value == nil)
    }

    @Test("NFC/NFD twin names and a root file beside a _root directory block only their bundles, named in the state")
    func twinsAndCollisions() async throws {
        let harness = try await SyncHarness.start()
        defer { Task { await harness.stop() } }
        let composed = "caf\u{E9}.txt"
        let decomposed = "cafe\u{301}.txt"
        try harness.repository.commit(
            "twins",
            changes: Self.healthy + [
                .write("apps/menu/" + composed, Array("nfc".utf8)), .write("apps/menu/" + decomposed, Array("nfd".utf8)),
                .text("apps/x.txt", "root"), .text("apps/_root/x.txt", "directory"),
            ])
        let result = try #require(await harness.sync().results.first)
        #expect(Set(result.plan.problems.map(\.bundle)) == ["menu", "_root"])
        #expect(result.plan.problems.contains { $0.reason.contains("Unicode normalization") })
        #expect(result.plan.problems.contains { $0.reason.contains("both land at x.txt") })
        #expect(try await harness.bundle("config/apps/web") != nil, "other bundles sync")
        #expect(try await harness.state()?.errors.count == 2)
    }

    @Test("a tree thousands of directories deep syncs without exhausting the stack")
    func deepTree() async throws {
        let harness = try await SyncHarness.start(mappings: "[{source: apps, prefix: config/apps, bundle_by: single}]")
        defer { Task { await harness.stop() } }
        let deep = (0..<4000).map { _ in "d" }.joined(separator: "/")
        try harness.repository.commit("deep", changes: Self.healthy + [.text("apps/" + deep + "/leaf.txt", "bottom")])
        let result = try await harness.syncClean()
        #expect(result.plan.problems.isEmpty)
        #expect(result.plan.writes.count == 1)
        try harness.repository.commit("deeper", changes: [.text("apps/" + deep + "/leaf.txt", "changed")])
        let incremental = try await harness.syncClean()
        #expect(incremental.plan.mode == .incremental && incremental.plan.writes.count == 1, "the diff walks 4,000 levels too")
    }

    @Test("a committed .git2kv/ path in the files layout is refused: it never writes the daemon's control keys")
    func reservedPathInFilesLayout() async throws {
        let harness = try await SyncHarness.start(mappings: "[{source: apps, prefix: config/apps, layout: files, expand_keys: true, ignore_file_extension: true}]")
        defer { Task { await harness.stop() } }
        try harness.repository.commit(
            "control",
            changes: Self.healthy + [.text("apps/.git2kv/freeze", "frozen by a committer"), .text("apps/.git2kv.json", #"{"state": "x"}"#)])
        let result = try #require(await harness.sync().results.first)
        #expect(result.plan.problems.count == 2)
        #expect(result.plan.problems.allSatisfy { $0.reason.contains("reserved for git2kv's own keys") })
        #expect(try await harness.kv.get("config/apps/.git2kv/freeze").value == nil)
        #expect(try await harness.kv.get("config/apps/web/app/port").value != nil)
        try harness.repository.commit("more", changes: [.text("apps/web/app.json", #"{"port": 81}"#)])
        let next = try #require(await harness.sync().results.first)
        #expect(next.plan.outstandingErrors.count == 2, "a later commit still syncs and keeps naming the refused paths")
    }
}
