import BundleFormat
import Foundation
import KV
import TestFixtures

/// Malformed files committed to the config repository. Each must block only its own bundle:
/// `sync` exits 1 naming file and reason, the bundle keeps its last good value, and the
/// commit's other bundle still syncs. The branch is then force-pushed back to the good commit.
struct RepoFileCorpus {
    let root: String

    private struct Case {
        let input: String
        let changes: [FixtureChange]
        let expected: [String]
    }

    private static let goodSettings = Array("{\"port\": 8080}\n".utf8)

    private var cases: [Case] {
        let laughs = (1...9).map { level in "l\(level): &l\(level) [" + Array(repeating: "*l\(level - 1)", count: 9).joined(separator: ", ") + "]" }
        return [
            Case(input: "invalid JSON", changes: [.text("apps/web/broken.json", "{\n  \"port\": 80,\n  \"workers\": ,\n}\n")],
                 expected: ["apps/web/broken.json:3", "JSON"]),
            Case(input: "invalid YAML", changes: [.text("apps/web/broken.yaml", "backends:\n  - a\n - b\n")],
                 expected: ["apps/web/broken.yaml:3", "YAML"]),
            Case(input: "YAML alias bomb", changes: [.text("apps/web/bomb.yaml", "l0: &l0 lol\n" + laughs.joined(separator: "\n") + "\n")],
                 expected: ["apps/web/bomb.yaml", "alias"]),
            Case(input: "file over max_file_size", changes: [.write("apps/web/huge.txt", Array(repeating: 0x61, count: 100_000))],
                 expected: ["apps/web/huge.txt", "over the limit of 65536", "keeps its last good value"]),
            Case(input: "bundle over max_bundle_size",
                 changes: (1...5).map { .write("apps/web/part\($0).txt", Array(repeating: 0x62, count: 60_000)) },
                 expected: ["apps/web", "over the limit of 262144"]),
            Case(input: "binary where text is required", changes: [.write("apps/web/data.bin", [0, 1, 2, 0xFF])],
                 expected: ["apps/web/data.bin", "NUL"]),
            Case(input: "text that is not UTF-8", changes: [.write("apps/web/latin1.txt", [0x63, 0x61, 0x66, 0xE9, 0x0A])],
                 expected: ["apps/web/latin1.txt", "UTF-8"]),
            Case(input: "symlink escaping the source", changes: [.symlink("apps/web/passwd", target: "../../../etc/passwd")],
                 expected: ["apps/web/passwd", "symlink"]),
            Case(input: "submodule", changes: [.submodule("apps/web/vendor", commit: String(repeating: "ab", count: 20))],
                 expected: ["apps/web/vendor", "submodule"]),
            Case(input: "path component ending in a space", changes: [.text("apps/web/trailing /x.txt", "x")],
                 expected: ["apps/web/trailing /x.txt", "space"]),
            Case(input: "file name that is not UTF-8", changes: [.writeBytesPath(Array("apps/web/".utf8) + [0xFF, 0xFE] + Array(".txt".utf8), [0x61])],
                 expected: ["apps/web/", "UTF-8"]),
        ]
    }

    func run() async throws -> [CorpusOutcome] {
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        let (server, port) = try Git2KVBinary.startKVServer()
        defer { server.kill() }
        let kv = ConsulClient(.init(address: "http://127.0.0.1:\(port)"))
        let repository = try FixtureRepository(at: root + "/origin.git")
        let good = try repository.commit(
            "good", changes: [.write("apps/web/settings.json", Self.goodSettings), .text("apps/api/app.yaml", "revision: 0\n")])
        let config = root + "/git2kv.yaml"
        try """
            kv: { address: "http://127.0.0.1:\(port)" }
            state_dir: \(root)/state
            repos:
              - name: config
                url: "\(repository.url)"
                branches: [main]
                mappings:
                  - source: apps
                    prefix: corpus/apps
                    validation: { text_only: true, max_file_size: 64KiB, max_bundle_size: 256KiB }

            """.write(toFile: config, atomically: true, encoding: .utf8)
        let first = try Git2KVBinary.run(["sync", "--config", config])
        guard first.status == 0 else { throw ReliabilityFailure("the corpus's first sync failed: \(first.errors)") }

        var outcomes: [CorpusOutcome] = []
        for (number, item) in cases.enumerated() {
            let revision = "revision: \(number + 1)\n"
            try repository.commit(item.input, changes: item.changes + [.text("apps/api/app.yaml", revision)])
            var problem = expectFailure(try Git2KVBinary.run(["sync", "--config", config]), naming: item.expected)
            if problem == nil { problem = await lastGoodKept(kv, apiRevision: revision) }
            if problem == nil, number == 0 {
                let status = try Git2KVBinary.run(["status", "--config", config, "--no-fetch"])
                if !(status.output + status.errors).contains("apps/web/broken.json:3") { problem = "status does not show the kept error" }
            }
            outcomes.append(CorpusOutcome(category: "repo files", input: item.input, problem: problem))
            try repository.forceBranch("main", to: good)
            let repaired = try Git2KVBinary.run(["sync", "--config", config])
            if repaired.status != 0 {
                outcomes.append(CorpusOutcome(category: "repo files", input: "force-push back after \(item.input)", problem: repaired.errors))
            }
        }
        return outcomes
    }

    /// The blocked bundle still holds the good commit's files; the other one took the new commit.
    private func lastGoodKept(_ kv: ConsulClient, apiRevision: String) async -> String? {
        guard let web = try? await kv.get("corpus/apps/web").value, let bundle = try? BundleDecoder.decode(web.value) else {
            return "corpus/apps/web was lost"
        }
        if bundle.files.map(\.path) != ["settings.json"] || bundle.file(at: "settings.json")?.content != Self.goodSettings {
            return "corpus/apps/web lost its last good value"
        }
        guard let api = try? await kv.get("corpus/apps/api").value, let apiBundle = try? BundleDecoder.decode(api.value) else {
            return "corpus/apps/api was lost"
        }
        if apiBundle.file(at: "app.yaml")?.text != apiRevision { return "the commit's other bundle (corpus/apps/api) did not sync" }
        return nil
    }
}
