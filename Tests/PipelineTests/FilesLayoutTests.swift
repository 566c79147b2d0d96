import Foundation
import KV
import Pipeline
import TestFixtures
import Testing

@Suite("Sync of files-layout (git2consul) mappings")
struct FilesLayoutTests {
    static let expanded = "[{source: apps, prefix: west/config/main, layout: files, expand_keys: true, ignore_file_extension: true}]"

    func values(_ harness: SyncHarness, under prefix: String = "west/config/main/") async throws -> [String: String] {
        var result: [String: String] = [:]
        for (key, entry) in try await harness.entries(under: prefix) where !key.contains("/.git2kv/") {
            result[key] = String(decoding: entry.value, as: UTF8.self)
        }
        return result
    }

    @Test("files become keys; JSON, YAML and .properties expand into one key per leaf, arrays by index")
    func expansion() async throws {
        let harness = try await SyncHarness.start(mappings: Self.expanded)
        defer { Task { await harness.stop() } }
        try harness.repository.commit(
            "initial",
            changes: [
                .text("apps/web/site.conf", "  server { }\n\n"),
                .text("apps/web/app.json", #"{"port": 8080, "debug": false, "ratio": 1.5, "hosts": ["a", "b"], "db": {"user name": "x", "pass": null}}"#),
                .text("apps/api.yaml", "timeout: 30\nnested:\n  list: [1, two]\n"),
                .text("apps/jvm.properties", "# comment\nheap.max=2g\nname : api\\\n  server\n"),
            ])
        try await harness.syncClean()
        #expect(try await values(harness) == [
            "west/config/main/web/site.conf": "server { }",
            "west/config/main/web/app/port": "8080",
            "west/config/main/web/app/debug": "false",
            "west/config/main/web/app/ratio": "1.5",
            "west/config/main/web/app/hosts/0": "a",
            "west/config/main/web/app/hosts/1": "b",
            "west/config/main/web/app/db/user%20name": "x",
            "west/config/main/web/app/db/pass": "",
            "west/config/main/api/timeout": "30",
            "west/config/main/api/nested/list/0": "1",
            "west/config/main/api/nested/list/1": "two",
            "west/config/main/jvm/heap.max": "2g",
            "west/config/main/jvm/name": "apiserver",
        ])
    }

    @Test("deleting test removes exactly its keys, never test_dev's; a changed leaf set removes only the dropped leaves")
    func exactDeletes() async throws {
        let harness = try await SyncHarness.start(mappings: Self.expanded)
        defer { Task { await harness.stop() } }
        try harness.repository.commit(
            "initial",
            changes: [.text("apps/test.json", #"{"a": 1, "b": 2}"#), .text("apps/test_dev.json", #"{"a": 3}"#)])
        try await harness.syncClean()
        let sibling = try await harness.kv.get("west/config/main/test_dev/a").value
        try harness.repository.commit("shrink", changes: [.text("apps/test.json", #"{"a": 1}"#)])
        let shrink = try await harness.syncClean()
        #expect(shrink.plan.deletes == ["west/config/main/test/b"])
        #expect(shrink.plan.writes.isEmpty, "an unchanged leaf is not rewritten")
        try harness.repository.commit("drop", changes: [.delete("apps/test.json")])
        let drop = try await harness.syncClean()
        #expect(drop.plan.deletes == ["west/config/main/test/a"])
        #expect(try await values(harness) == ["west/config/main/test_dev/a": "3"])
        #expect(try await harness.kv.get("west/config/main/test_dev/a").value?.modifyIndex == sibling?.modifyIndex)
        #expect(try await harness.state(prefix: "west/config/main")?.keys?.count == 1)
    }

    @Test("a bad file keeps its keys; keys git does not have are removed; all writes end with the state")
    func badFileAndStrayKeys() async throws {
        let harness = try await SyncHarness.start(mappings: Self.expanded)
        defer { Task { await harness.stop() } }
        try harness.repository.commit("initial", changes: [.text("apps/app.json", #"{"a": 1}"#), .text("apps/other.json", #"{"b": 1}"#)])
        try await harness.syncClean()
        try harness.repository.commit("break", changes: [.text("apps/app.json", "{\"a\": \n"), .text("apps/other.json", #"{"b": 2}"#)])
        let report = await harness.sync()
        #expect(!report.succeeded)
        #expect(try await values(harness) == ["west/config/main/app/a": "1", "west/config/main/other/b": "2"])
        try await harness.kv.put("west/config/main/stray", value: Array("x".utf8))
        try harness.repository.commit("fix", changes: [.text("apps/app.json", #"{"a": 5}"#)])
        #expect(await harness.sync().succeeded)
        #expect(try await values(harness) == ["west/config/main/app/a": "5", "west/config/main/other/b": "2"])
        #expect(try await harness.state(prefix: "west/config/main")?.errors.isEmpty == true)
    }

    @Test("thousands of keys go in as few transactions as Consul's limits allow")
    func manyKeys() async throws {
        let harness = try await SyncHarness.start(mappings: "[{source: apps, prefix: flat, layout: files}]")
        defer { Task { await harness.stop() } }
        try harness.repository.commit("many", changes: (0..<300).map { .text("apps/f\($0).txt", "\($0)") })
        let result = try await harness.syncClean()
        #expect(result.transactions == 5, "300 keys and the state: 63 per guarded transaction")
        #expect(try await harness.entries(under: "flat/").count == 301)
    }
}
