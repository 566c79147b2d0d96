import Foundation
import KV
import TestFixtures
import Testing

/// The files under Examples/ as a user would take them: their repository synced with their own
/// daemon configuration, their renderer configurations rendering it, git2consul's config.json
/// giving git2consul's keys. Only addresses, URLs, paths and secrets are swapped for the test's.
@Suite("Examples/ (end to end)", .serialized)
struct ExampleConfigurationTests {
    static let examples = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Examples").path

    @Test("fleet: the repository syncs with git2kv.yaml's two mappings, and both renderer configurations render it")
    func fleet() async throws {
        let directory = try TemporaryDirectory(prefix: "git2kv-example-fleet")
        defer { directory.remove() }
        let repository = try Self.repository(from: Self.examples + "/fleet/repo", at: directory.appending("origin.git"))
        let (server, port) = try Git2KVBinary.startKVServer()
        defer { server.kill() }
        let address = "http://127.0.0.1:\(port)"
        let fleet = Self.examples + "/fleet"

        let policy = try Git2KVBinary.run(["policy", "--config", fleet + "/git2kv.yaml"])
        #expect(policy.status == 0, "\(policy.errors)")
        #expect(policy.output.contains(#"key_prefix "config/apps/""#) && policy.output.contains(#"key_prefix "config/platform/""#))

        let daemonConfig = try Self.adapt(
            fleet + "/git2kv.yaml", into: directory.appending("git2kv.yaml"),
            replacing: ["http://127.0.0.1:8500": address, "https://git.example.com/ops/config.git": repository.url, "/var/lib/git2kv": directory.appending("state")],
            droppingLinesWith: ["token_file:", "credentials:", "webhook:"])
        let sync = try Git2KVBinary.run(["sync", "--config", daemonConfig])
        #expect(sync.status == 0, "\(sync.output)\(sync.errors)")
        let keys = try await ConsulClient(.init(address: address)).keys(prefix: "config/", separator: nil, options: .default).value
        #expect(Set(keys).isSuperset(of: ["config/apps/web", "config/apps/api", "config/platform/limits"]))

        let replacements = [
            "http://127.0.0.1:8500": address, ", token_file: /etc/git2kv/read.token": "", "/etc/git2kv/templates": fleet + "/templates",
            "/var/lib/git2kv": directory.appending("render-state"),
        ]
        let environment = ProcessInfo.processInfo.environment.merging(["REGION": "eu-west-1"]) { $1 }
        let web = try ProcessRunner.run(
            Git2KVBinary.path,
            ["render", "--once", "--dry-run", "--config", try Self.adapt(fleet + "/render-web.yaml", into: directory.appending("web.yaml"), replacing: replacements)],
            environment: environment)
        #expect(web.status == 2, "a dry run that would write files exits 2: \(web.output)\(web.errors)")
        #expect(web.output.contains("server 10.0.1.11:8080;") && web.output.contains("server_name www.example.com;"))
        let api = try ProcessRunner.run(
            Git2KVBinary.path,
            ["render", "--once", "--dry-run", "--config", try Self.adapt(fleet + "/render-api.yaml", into: directory.appending("api.yaml"), replacing: replacements)],
            environment: environment)
        #expect(api.status == 2, "\(api.output)\(api.errors)")
        for line in ["API_DB_POOL=20", "API_REGION=eu-west-1", "checkout_v2: true", "default_rps: 100"] {
            #expect(api.output.contains(line), "the api renderer's dry run does not show \(line)")
        }
    }

    @Test("git2consul: config.json as-is gives git2consul's key names and values, and says the GitHub hook is not carried over")
    func git2consul() async throws {
        let directory = try TemporaryDirectory(prefix: "git2kv-example-git2consul")
        defer { directory.remove() }
        let config = try FixtureRepository(at: directory.appending("config.git"))
        try config.commit("master", on: "master", changes: [.text("services/web/app.json", #"{"port": 80, "tls": {"enabled": true}}"#), .text("services/motd", "hello\n")])
        try config.commit("staging", on: "staging", changes: [.text("services/web/app.json", #"{"port": 8080}"#)])
        let flags = try FixtureRepository(at: directory.appending("flags.git"))
        try flags.commit("flags", on: "master", changes: [.text("checkout.json", #"{"v2": true}"#)])
        let (server, port) = try Git2KVBinary.startKVServer()
        defer { server.kill() }

        let file = try Self.adapt(
            Self.examples + "/git2consul/config.json", into: directory.appending("config.json"),
            replacing: [
                "https://git.example.com/ops/config.git": config.url, "https://git.example.com/ops/flags.git": flags.url,
                "/var/lib/git2consul_cache": directory.appending("cache"),
            ])
        let environment = ProcessInfo.processInfo.environment.merging(["CONSUL_HTTP_ADDR": "127.0.0.1:\(port)"]) { $1 }
        let sync = try ProcessRunner.run(Git2KVBinary.path, ["sync", "--config", file], environment: environment)
        #expect(sync.status == 0, "\(sync.output)\(sync.errors)")
        #expect((sync.output + sync.errors).contains("github"), "the dropped GitHub hook is mentioned")

        let kv = ConsulClient(.init(address: "http://127.0.0.1:\(port)"))
        func value(_ key: String) async throws -> String? {
            try await kv.get(key).value.map { String(decoding: $0.value, as: UTF8.self) }
        }
        #expect(try await value("config/master/web/app.json/port") == "80")
        #expect(try await value("config/master/web/app.json/tls/enabled") == "true")
        #expect(try await value("config/master/motd") == "hello")
        #expect(try await value("config/staging/web/app.json/port") == "8080")
        #expect(try await value("teams/master/checkout.json") == #"{"v2": true}"#, "without expand_keys a file is one key")
    }

    @Test("etcd: the same repository syncs to a real etcd with the example's settings, policy prints etcdctl commands, the renderer reads it")
    func etcd() async throws {
        let directory = try TemporaryDirectory(prefix: "git2kv-example-etcd")
        defer { directory.remove() }
        let repository = try Self.repository(from: Self.examples + "/fleet/repo", at: directory.appending("origin.git"))
        let cluster = try EtcdCluster()
        defer { cluster.stop() }
        try await cluster.waitUntilReady()
        let example = Self.examples + "/etcd"

        let policy = try Git2KVBinary.run(["policy", "--config", example + "/git2kv.yaml"])
        #expect(policy.status == 0, "\(policy.errors)")
        #expect(policy.output.contains("etcdctl role grant-permission --prefix=true"))

        let endpoints = #"["https://etcd-1:2379", "https://etcd-2:2379", "https://etcd-3:2379"]"#
        let common = [endpoints: "[\"\(cluster.endpoints[0])\"]", "/var/lib/git2kv": directory.appending("state")]
        let daemonConfig = try Self.adapt(
            example + "/git2kv.yaml", into: directory.appending("git2kv.yaml"),
            replacing: common.merging(["https://git.example.com/ops/config.git": repository.url]) { $1 },
            droppingLinesWith: ["token_file:", "ca_file:", "webhook:"])
        let sync = try Git2KVBinary.run(["sync", "--config", daemonConfig])
        #expect(sync.status == 0, "\(sync.output)\(sync.errors)")
        let stored = try await cluster.dump(prefix: "config/")
        #expect(Set(stored.keys).isSuperset(of: ["config/apps/api", "config/platform/limits"]))

        let renderConfig = try Self.adapt(
            example + "/render.yaml", into: directory.appending("render.yaml"), replacing: common, droppingLinesWith: ["token_file:", "ca_file:"])
        let render = try Git2KVBinary.run(["render", "--once", "--dry-run", "--config", renderConfig])
        #expect(render.status == 2, "\(render.output)\(render.errors)")
        #expect(render.output.contains("db.service.consul"))
    }

    /// A bare repository holding the files of an example's `repo/` directory in one commit.
    static func repository(from source: String, at path: String) throws -> FixtureRepository {
        let repository = try FixtureRepository(at: path)
        let files = FileManager.default.enumerator(atPath: source)?.compactMap { $0 as? String } ?? []
        var changes: [FixtureChange] = []
        for file in files.sorted() {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: source + "/" + file, isDirectory: &isDirectory), !isDirectory.boolValue else { continue }
            changes.append(.write(file, [UInt8](try Data(contentsOf: URL(fileURLWithPath: source + "/" + file)))))
        }
        try repository.commit("Example configuration", changes: changes)
        return repository
    }

    /// Copies an example file with the given text replaced and lines holding the given markers
    /// removed; returns the copy's path.
    static func adapt(_ example: String, into path: String, replacing replacements: [String: String], droppingLinesWith dropped: [String] = []) throws -> String {
        var text = try String(contentsOfFile: example, encoding: .utf8)
        for (old, new) in replacements {
            #expect(text.contains(old), "\(example) no longer contains \(old)")
            text = text.replacingOccurrences(of: old, with: new)
        }
        text = text.split(separator: "\n", omittingEmptySubsequences: false).filter { line in !dropped.contains { line.contains($0) } }.joined(separator: "\n")
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }
}
