import BundleFormat
import Foundation
import KV
import KVServer
import Pipeline
import StoreFixtures
import TestFixtures
import Testing

/// Serialized: each case builds its fixture with the git CLI, which blocks a cooperative
/// thread; two dozen cases at once (both stores) would hold the whole pool and starve every
/// other test in the process.
@Suite("Sync of bundle-layout mappings", .serialized)
struct SyncTests {
    static let initialFiles: [FixtureChange] = [
        .text("apps/web/config.json", "{\"port\": 8080}\n"),
        .text("apps/web/nginx/site.conf", "server { listen 80; }\n"),
        .text("apps/api/settings.yaml", "timeout: 30\n"),
        .text("apps/README.md", "root file\n"),
        .text("docs/outside.md", "not mapped\n"),
    ]

    @Test("initial sync writes one key per directory, a root bundle and the state, in one transaction", arguments: StoreBackend.allCases)
    func initialSync(backend: StoreBackend) async throws {
        let harness = try await SyncHarness.start(backend: backend)
        defer { Task { await harness.stop() } }
        let head = try harness.repository.commit("initial", changes: Self.initialFiles)
        let result = try await harness.syncClean()
        #expect(result.transactions == 1)
        #expect(Set(try await harness.entries().keys) == ["config/apps/web", "config/apps/api", "config/apps/_root", "config/apps/.git2kv/state"])
        let web = try #require(try await harness.bundle("config/apps/web"))
        #expect(web.files.map(\.path) == ["config.json", "nginx/site.conf"])
        #expect(web.source == BundleSource(repo: "config", branch: "main", path: "apps/web"))
        #expect(web.commit.id == head)
        let state = try #require(try await harness.state())
        #expect(state.commit.id == head)
        #expect(state.bundleCount == 3)
        #expect(state.chunked.isEmpty)
        #expect(state.keys?.count == 4)
        #expect(state.errors.isEmpty)
    }

    @Test("a one-file commit writes exactly its bundle and the state in one transaction; other keys keep their index", arguments: StoreBackend.allCases)
    func oneFileCommit(backend: StoreBackend) async throws {
        let harness = try await SyncHarness.start(backend: backend)
        defer { Task { await harness.stop() } }
        try harness.repository.commit("initial", changes: Self.initialFiles)
        try await harness.syncClean()
        let before = try await harness.entries()
        let head = try harness.repository.commit("raise port", changes: [.text("apps/web/config.json", "{\"port\": 9090}\n")])
        let result = try await harness.syncClean()
        #expect(result.transactions == 1)
        #expect(result.plan.mode == .incremental)
        #expect(result.plan.writes.map(\.key) == ["config/apps/web"])
        let after = try await harness.entries()
        #expect(after["config/apps/api"]?.modifyIndex == before["config/apps/api"]?.modifyIndex)
        #expect(after["config/apps/_root"]?.modifyIndex == before["config/apps/_root"]?.modifyIndex)
        let webIndex = try #require(after["config/apps/web"]?.modifyIndex)
        #expect(webIndex > (before["config/apps/web"]?.modifyIndex ?? 0))
        #expect(after["config/apps/.git2kv/state"]?.modifyIndex == webIndex)
        #expect(try await harness.state()?.commit.id == head)
        #expect(try await harness.state()?.previousCommit == before["config/apps/.git2kv/state"].flatMap { try? SyncState.decode($0.value) }?.commit.id)
    }

    @Test("empty commits, commits outside the source and content reverts write nothing", arguments: StoreBackend.allCases)
    func noOpCommits(backend: StoreBackend) async throws {
        let harness = try await SyncHarness.start(backend: backend)
        defer { Task { await harness.stop() } }
        try harness.repository.commit("initial", changes: Self.initialFiles)
        try await harness.syncClean()
        let before = try await harness.entries()
        try harness.repository.emptyCommit("nothing")
        try harness.repository.commit("docs only", changes: [.text("docs/outside.md", "changed\n")])
        let first = try await harness.syncClean()
        #expect(first.transactions == 0)
        try harness.repository.commit("touch", changes: [.text("apps/web/config.json", "{\"port\": 1}\n")])
        try harness.repository.commit("revert", changes: [.text("apps/web/config.json", "{\"port\": 8080}\n")])
        let second = try await harness.syncClean()
        #expect(second.transactions == 0)
        #expect(second.plan.mode == .upToDate, "the range touched the file but its content is what KV holds")
        let after = try await harness.entries()
        #expect(after.mapValues(\.modifyIndex) == before.mapValues(\.modifyIndex))
    }

    @Test("deleting a directory deletes exactly its key; a rename moves the file between bundles", arguments: StoreBackend.allCases)
    func deleteAndRename(backend: StoreBackend) async throws {
        let harness = try await SyncHarness.start(mappings: "[{source: apps, prefix: config/test}, {source: other, prefix: config/test_dev}]", backend: backend)
        defer { Task { await harness.stop() } }
        try harness.repository.commit("initial", changes: Self.initialFiles + [.text("other/x/a.txt", "sibling\n")])
        let report = await harness.sync()
        #expect(report.failures.isEmpty)
        #expect(try await harness.kv.get("config/test_dev/x").value != nil)
        try harness.repository.commit("drop api", changes: [.delete("apps/api/settings.yaml")])
        try harness.repository.commit("move", changes: [.rename(from: "apps/web/nginx/site.conf", to: "apps/edge/site.conf")])
        _ = await harness.sync()
        let keys = Set(try await harness.entries(under: "config/").keys)
        #expect(!keys.contains("config/test/api"))
        #expect(keys.contains("config/test/edge"))
        #expect(keys.contains("config/test_dev/x"), "a sibling prefix with a common start is untouched")
        #expect(try await harness.bundle("config/test/web")?.files.map(\.path) == ["config.json"])
        #expect(try await harness.bundle("config/test/edge")?.files.map(\.path) == ["site.conf"])
    }

    @Test("a force push compares the whole tree and writes only the difference", arguments: StoreBackend.allCases)
    func forcePush(backend: StoreBackend) async throws {
        let harness = try await SyncHarness.start(backend: backend)
        defer { Task { await harness.stop() } }
        let base = try harness.repository.commit("initial", changes: Self.initialFiles)
        try harness.repository.commit("doomed", changes: [.text("apps/api/settings.yaml", "timeout: 99\n")])
        try await harness.syncClean()
        let before = try await harness.entries()
        try harness.repository.forceBranch("main", to: base)
        let rewritten = try harness.repository.commit("rewritten", changes: [.text("apps/web/config.json", "{\"port\": 7070}\n")])
        let result = try await harness.syncClean()
        #expect(result.plan.mode == .fullCompare)
        #expect(result.plan.reason.contains("force-pushed"))
        #expect(Set(result.plan.writes.map(\.key)) == ["config/apps/api", "config/apps/web"])
        let after = try await harness.entries()
        #expect(after["config/apps/_root"]?.modifyIndex == before["config/apps/_root"]?.modifyIndex)
        #expect(try await harness.state()?.commit.id == rewritten)
    }

    @Test("a bad file keeps its bundle's last good value while the other bundles update; the state records the error", arguments: StoreBackend.allCases)
    func badFileKeepsLastGood(backend: StoreBackend) async throws {
        let harness = try await SyncHarness.start(backend: backend)
        defer { Task { await harness.stop() } }
        try harness.repository.commit("initial", changes: Self.initialFiles)
        try await harness.syncClean()
        let goodWeb = try await harness.kv.get("config/apps/web").value
        let bad = try harness.repository.commit(
            "break web, fix api",
            changes: [.text("apps/web/config.json", "{\"port\": 8080,\n \"workers\": }\n"), .text("apps/api/settings.yaml", "timeout: 45\n")])
        let report = await harness.sync()
        #expect(!report.succeeded)
        #expect(try await harness.kv.get("config/apps/web").value == goodWeb)
        #expect(try await harness.bundle("config/apps/api")?.file(at: "settings.yaml")?.text == "timeout: 45\n")
        let state = try #require(try await harness.state())
        #expect(state.commit.id == bad)
        let error = try #require(state.errors.first)
        #expect(error.bundle == "web")
        #expect(error.file == "apps/web/config.json")
        #expect(error.line == 2)
        #expect(error.commit == bad)
        #expect(!(await harness.sync()).succeeded, "the held-back bundle is still reported on the next pass")
        try harness.repository.commit("fix web", changes: [.text("apps/web/config.json", "{\"port\": 8081}\n")])
        #expect(await harness.sync().succeeded)
        #expect(try await harness.state()?.errors.isEmpty == true)
    }

    @Test("a symlink out of the source and a submodule block only their bundle", arguments: StoreBackend.allCases)
    func escapingSymlinkAndSubmodule(backend: StoreBackend) async throws {
        let harness = try await SyncHarness.start(backend: backend)
        defer { Task { await harness.stop() } }
        try harness.repository.commit(
            "initial",
            changes: Self.initialFiles + [
                .symlink("apps/evil/passwd", target: "../../../etc/passwd"), .symlink("apps/web/current.json", target: "config.json"),
                .submodule("apps/vendor/lib", commit: "0123456789abcdef0123456789abcdef01234567"),
            ])
        let report = await harness.sync()
        let result = try #require(report.results.first)
        #expect(Set(result.plan.problems.map(\.bundle)) == ["evil", "vendor"])
        #expect(result.plan.problems.contains { $0.reason.contains("outside the mapping's source") })
        #expect(result.plan.problems.contains { $0.reason.contains("submodule") })
        #expect(try await harness.kv.get("config/apps/evil").value == nil)
        #expect(try await harness.bundle("config/apps/web")?.file(at: "current.json")?.mode == .symlink)
    }

    @Test("--dry-run plans the writes and sends none", arguments: StoreBackend.allCases)
    func dryRun(backend: StoreBackend) async throws {
        let harness = try await SyncHarness.start(backend: backend)
        defer { Task { await harness.stop() } }
        try harness.repository.commit("initial", changes: Self.initialFiles)
        let report = await harness.sync(dryRun: true)
        let plan = try #require(report.results.first?.plan)
        #expect(plan.writes.count == 3)
        #expect(plan.summary.contains("write  config/apps/.git2kv/state"))
        #expect(try await harness.entries().isEmpty)
    }

    @Test("keys edited or added by hand are repaired and reported as drift", arguments: StoreBackend.allCases)
    func driftRepair(backend: StoreBackend) async throws {
        let harness = try await SyncHarness.start(backend: backend)
        defer { Task { await harness.stop() } }
        try harness.repository.commit("initial", changes: Self.initialFiles)
        try await harness.syncClean()
        let good = try await harness.kv.get("config/apps/web").value?.value
        try await harness.kv.put("config/apps/web", value: Array("hand edit".utf8))
        let clean = try await harness.syncClean()
        #expect(clean.plan.drift == ["config/apps/web differed from git; rewritten"])
        #expect(try await harness.kv.get("config/apps/web").value?.value == good)
        try await harness.kv.put("config/apps/stray", value: [1])
        let second = try await harness.syncClean()
        #expect(second.plan.drift == ["config/apps/stray is not from git; removed"])
        #expect(try await harness.kv.get("config/apps/stray").value == nil)
        let third = try await harness.syncClean()
        #expect(third.transactions == 0)
        #expect(third.plan.mode == .upToDate)
    }

    @Test("a bundle over the value limit goes in chunks first; replaced chunks are removed afterwards", arguments: StoreBackend.allCases)
    func chunkedBundle(backend: StoreBackend) async throws {
        let harness = try await SyncHarness.start(backend: backend)
        defer { Task { await harness.stop() } }
        var generator = SystemRandomNumberGenerator()
        let noise = { (count: Int) in (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) } }
        // Random bytes do not compress: two files of 0.9 values' worth (each under max_file_size) need chunks on either store.
        let limit = harness.kv.limits.maxValueSize
        try harness.repository.commit(
            "big", changes: Self.initialFiles + [.write("apps/big/a.bin", noise(limit * 9 / 10)), .write("apps/big/b.bin", noise(limit * 9 / 10))])
        try await harness.syncClean()
        let manifest = try ChunkManifest.decode(try #require(try await harness.kv.get("config/apps/big").value).value)
        #expect(manifest.chunks.count >= 2)
        let chunkKeys = Set(try await harness.entries(under: "config/apps/.git2kv/chunks/").keys)
        #expect(chunkKeys == Set(manifest.chunkKeys.map { "config/apps/" + $0 }))
        try harness.repository.commit("replace", changes: [.write("apps/big/a.bin", noise(limit * 8 / 10))])
        try await harness.syncClean()
        let replaced = try ChunkManifest.decode(try #require(try await harness.kv.get("config/apps/big").value).value)
        let remaining = Set(try await harness.entries(under: "config/apps/.git2kv/chunks/").keys)
        #expect(remaining == Set(replaced.chunkKeys.map { "config/apps/" + $0 }))
        var values: [String: [UInt8]] = [:]
        for chunk in replaced.chunks { values[chunk.sha256] = try await harness.kv.get("config/apps/" + ChunkManifest.chunkKey(chunk.sha256)).value?.value }
        let bundle = try BundleDecoder.decode(try replaced.assemble(values))
        #expect(bundle.file(at: "a.bin")?.content.count == limit * 8 / 10)
    }

    @Test("more bundles than one transaction holds: every batch re-checks the state, which is written last", arguments: StoreBackend.allCases)
    func manyBundles(backend: StoreBackend) async throws {
        let harness = try await SyncHarness.start(backend: backend)
        defer { Task { await harness.stop() } }
        let files = (0..<150).map { FixtureChange.text("apps/dir-\($0)/f.txt", "\($0)\n") }
        let head = try harness.repository.commit("many", changes: files)
        let result = try await harness.syncClean()
        // 151 writes: 64 operations per transaction on Consul, 128 on etcd.
        #expect(result.transactions == (backend == .etcd ? 2 : 3))
        #expect(try await harness.entries().count == 151)
        #expect(try await harness.state()?.commit.id == head)
        #expect(try await harness.state()?.bundleCount == 150)
    }

    @Test("two concurrent syncs of one mapping end consistent: one writes, the other re-reads", arguments: StoreBackend.allCases)
    func concurrentSyncs(backend: StoreBackend) async throws {
        let harness = try await SyncHarness.start(backend: backend)
        defer { Task { await harness.stop() } }
        try harness.repository.commit("initial", changes: Self.initialFiles)
        try await harness.syncClean()
        let head = try harness.repository.commit("change", changes: [.text("apps/web/config.json", "{\"port\": 1234}\n")])
        async let first = harness.sync()
        async let second = harness.sync()
        let reports = await [first, second]
        #expect(reports.allSatisfy { $0.failures.isEmpty })
        #expect(try await harness.state()?.commit.id == head)
        #expect(try await harness.bundle("config/apps/web")?.file(at: "config.json")?.text == "{\"port\": 1234}\n")
        let writers = reports.filter { $0.results.first?.transactions ?? 0 > 0 }
        #expect(writers.count >= 1)
    }

    @Test("a token that may not write the prefix fails clearly and writes nothing")
    func tokenWithoutPermission() async throws {
        let bootstrap = "sync-test-bootstrap"
        var harness = try await SyncHarness.start(server: KVServer(port: 0, aclBootstrapToken: bootstrap, logLevel: .critical), token: bootstrap)
        let started = harness
        defer { Task { await started.stop() } }
        try harness.repository.commit("initial", changes: Self.initialFiles)
        let tokenFile = harness.directory.appending("read.token")
        let reader = try await ACLFixture.token(harness, name: "reader", rules: #"key_prefix "config/" { policy = "read" }"#, bootstrap: bootstrap)
        try reader.write(toFile: tokenFile, atomically: true, encoding: .utf8)
        harness.config.repos[0].mappings[0].token = .file(tokenFile)
        let report = await harness.sync()
        let failure = try #require(report.failures.first)
        #expect(failure.error.description.contains("ermission denied"))
        #expect(!failure.error.description.contains(reader))
        #expect(try await harness.entries().isEmpty)
    }
}

@Suite("Sync of tags")
struct TagSyncTests {
    @Test("tags matching a pattern sync under their own prefix; others are left alone")
    func tags() async throws {
        var harness = try await SyncHarness.start(mappings: "[{source: apps, prefix: \"release/{branch}\"}]")
        let started = harness
        defer { Task { await started.stop() } }
        harness.config.repos[0].tags = ["v*"]
        harness.config.repos[0].branches = []
        let first = try harness.repository.commit("one", changes: [.text("apps/web/a.txt", "1\n")])
        try harness.repository.tag("v1.0", at: first, message: "release 1.0")
        let second = try harness.repository.commit("two", changes: [.text("apps/web/a.txt", "2\n")])
        try harness.repository.tag("v2.0", at: second)
        try harness.repository.tag("nightly", at: second)
        let report = await harness.sync()
        #expect(report.failures.isEmpty, "\(report.failures.map(\.error))")
        #expect(try await harness.bundle("release/v1.0/web")?.file(at: "a.txt")?.text == "1\n")
        #expect(try await harness.bundle("release/v2.0/web")?.file(at: "a.txt")?.text == "2\n")
        #expect(try await harness.kv.get("release/nightly/web").value == nil)
        #expect(try await harness.state(prefix: "release/v1.0")?.branch == "v1.0")
    }
}
