import BundleFormat
import Foundation
import KV
import Pipeline
import StoreFixtures
import TestFixtures
import Testing

/// `git2kv sync`, `status`, `history`, `policy` and `validate` run as a user runs them: the
/// built binary against `git2kv kv-server` over HTTP.
@Suite("git2kv sync and friends (end to end)")
struct SyncCommandTests {
    struct Setup {
        let directory: TemporaryDirectory
        let repository: FixtureRepository
        let store: E2EStore
        let configFile: String

        var address: String { store.address }
        var kv: any KVStore { store.kv }

        static func start(mappings: String = "[{source: apps, prefix: config/apps}]", backend: StoreBackend = .kvServer) async throws -> Setup {
            let directory = try TemporaryDirectory(prefix: "git2kv-e2e-sync")
            let repository = try FixtureRepository(at: directory.appending("origin.git"))
            let store = try await E2EStore.start(backend)
            let configFile = directory.appending("git2kv.yaml")
            try DaemonConfigText.yaml(
                kvAddress: store.address, kvSetting: store.kvSetting, stateDirectory: directory.appending("state"), repoURL: repository.url,
                mappings: mappings
            ).write(toFile: configFile, atomically: true, encoding: .utf8)
            return Setup(directory: directory, repository: repository, store: store, configFile: configFile)
        }

        func run(_ arguments: [String]) throws -> ProcessRunner.Result {
            try Git2KVBinary.run(arguments)
        }

        func stop() {
            store.stop()
            directory.remove()
        }
    }

    @Test("sync writes the bundles; a bad file keeps its bundle, exits 1 and shows in status; dry run writes nothing")
    func syncStatusAndDryRun() async throws {
        let setup = try await Setup.start()
        defer { setup.stop() }
        let first = try setup.repository.commit(
            "initial", changes: [.text("apps/web/config.json", "{\"port\": 80}\n"), .text("apps/api/settings.yaml", "a: 1\n")])
        let dry = try setup.run(["sync", "--config", setup.configFile, "--dry-run"])
        #expect(dry.status == 0, "\(dry.errors)")
        #expect(dry.output.contains("write  config/apps/web"))
        #expect(try await setup.kv.list(prefix: "config/").value.isEmpty)

        let sync = try setup.run(["sync", "--config", setup.configFile])
        #expect(sync.status == 0, "\(sync.errors)")
        #expect(sync.output.contains("synced \(first.prefix(12))"))
        let web = try #require(try await setup.kv.get("config/apps/web").value)
        #expect(try BundleDecoder.decode(web.value).file(at: "config.json")?.text == "{\"port\": 80}\n")

        let bad = try setup.repository.commit("break web", changes: [.text("apps/web/config.json", "{\"port\": \n")])
        let failing = try setup.run(["sync", "--config", setup.configFile])
        #expect(failing.status == 1)
        #expect(failing.errors.contains("apps/web/config.json:1: invalid JSON"), "\(failing.errors)")
        #expect(try await setup.kv.get("config/apps/web").value?.value == web.value)

        let status = try setup.run(["status", "--config", setup.configFile])
        #expect(status.status == 0, "\(status.errors)")
        #expect(status.output.contains("live:   \(bad.prefix(12))"))
        #expect(status.output.contains("error:  apps/web/config.json:1"))

        let history = try setup.run(["history", "--config", setup.configFile, "config/apps/web"])
        #expect(history.status == 0, "\(history.errors)")
        #expect(history.output.contains("* \(first.prefix(12))"), "\(history.output)")
        #expect(history.output.contains("← live"))
    }

    @Test("a symlink escaping the source is refused with nothing written for it")
    func prefixEscape() async throws {
        let setup = try await Setup.start()
        defer { setup.stop() }
        try setup.repository.commit("escape", changes: [.symlink("apps/evil/key", target: "../../../../etc/passwd")])
        let sync = try setup.run(["sync", "--config", setup.configFile])
        #expect(sync.status == 1)
        #expect(sync.errors.contains("outside the mapping's source"))
        #expect(try await setup.kv.get("config/apps/evil").value == nil)
    }

    @Test("an unchanged git2consul config.json gives git2consul's key names and values")
    func git2consulConfig() async throws {
        let setup = try await Setup.start()
        defer { setup.stop() }
        let main = try setup.repository.commit(
            "initial", changes: [.text("config/app.json", #"{"db": {"host": "db1", "port": 5432}}"#), .text("config/motd.txt", "hello\n")])
        try setup.repository.forceBranch("dev", to: main)
        try setup.repository.commit("dev", on: "dev", changes: [.text("config/motd.txt", "dev hello\n")])
        let configFile = setup.directory.appending("config.json")
        try """
            {
              "version": "1.0",
              "local_store": "\(setup.directory.appending("g2c"))",
              "repos": [{
                "name": "sample",
                "url": "\(setup.repository.url)",
                "branches": ["main", "dev"],
                "source_root": "config",
                "mountpoint": "west",
                "expand_keys": true,
                "hooks": [{"type": "polling", "interval": "1"}]
              }]
            }
            """.write(toFile: configFile, atomically: true, encoding: .utf8)
        var environment = ProcessInfo.processInfo.environment
        environment["CONSUL_HTTP_ADDR"] = setup.address.replacingOccurrences(of: "http://", with: "")
        let sync = try ProcessRunner.run(Git2KVBinary.path, ["sync", "--config", configFile], environment: environment)
        #expect(sync.status == 0, "\(sync.errors)")
        var values: [String: String] = [:]
        for entry in try await setup.kv.list(prefix: "west/").value where !entry.key.contains("/.git2kv/") {
            values[entry.key] = String(decoding: entry.value, as: UTF8.self)
        }
        #expect(values == [
            "west/sample/main/app.json/db/host": "db1",
            "west/sample/main/app.json/db/port": "5432",
            "west/sample/main/motd.txt": "hello",
            "west/sample/dev/app.json/db/host": "db1",
            "west/sample/dev/app.json/db/port": "5432",
            "west/sample/dev/motd.txt": "dev hello",
        ])
    }

    @Test("policy prints a writer and a reader policy per mapping, in HCL and JSON")
    func policy() async throws {
        let setup = try await Setup.start(mappings: "[{source: apps, prefix: config/apps}, {source: dns, prefix: dns}]")
        defer { setup.stop() }
        let result = try setup.run(["policy", "--config", setup.configFile])
        #expect(result.status == 0, "\(result.errors)")
        #expect(result.output.contains("key_prefix \"config/apps/\" {\n  policy = \"write\"\n}"))
        #expect(result.output.contains("key_prefix \"dns/\" {\n  policy = \"read\"\n}"))
        #expect(result.output.contains("\"config/apps/\" : {"))
    }

    @Test("on etcd, policy prints etcdctl commands that, run as printed, give each mapping a user scoped to its prefix")
    func etcdPolicyApplied() async throws {
        let bootstrap = try TemporaryDirectory(prefix: "git2kv-etcd-policy")
        defer { bootstrap.remove() }
        let appsToken = bootstrap.appending("apps.token")
        let dnsToken = bootstrap.appending("dns.token")
        let setup = try await Setup.start(
            mappings: "[{source: apps, prefix: config/apps, token_file: \(appsToken)}, {source: dns, prefix: dns, token_file: \(dnsToken)}]",
            backend: .etcd)
        defer { setup.stop() }
        let printed = try setup.run(["policy", "--config", setup.configFile])
        #expect(printed.status == 0, "\(printed.errors)")
        #expect(printed.output.contains("etcdctl role grant-permission --prefix=true git2kv-config-config-apps-writer readwrite 'config/apps/'"))

        let password = "policy-pass-\(UInt32.random(in: 0...UInt32.max))"
        let environment = ["ETCDCTL_API": "3", "ETCDCTL_ENDPOINTS": setup.address, "PASSWORD": password, "PATH": "/usr/bin:/bin"]
        let applied = try ProcessRunner.run("/bin/bash", ["-euc", printed.output], environment: environment)
        #expect(applied.status == 0, "\(applied.errors)")
        let enable = "etcdctl user add root --interactive=false --new-user-password=\"$PASSWORD\"; etcdctl user grant-role root root; etcdctl auth enable"
        #expect(try ProcessRunner.run("/bin/bash", ["-euc", enable], environment: environment).status == 0)

        try "git2kv-config-config-apps-writer:\(password)".write(toFile: appsToken, atomically: true, encoding: .utf8)
        try "git2kv-config-dns-writer:\(password)".write(toFile: dnsToken, atomically: true, encoding: .utf8)
        try setup.repository.commit("initial", changes: [.text("apps/web/a.conf", "a\n"), .text("dns/hosts", "10.0.0.1 a\n")])
        let sync = try setup.run(["sync", "--config", setup.configFile])
        #expect(sync.status == 0, "\(sync.output)\(sync.errors)")
        #expect(!(sync.output + sync.errors).contains(password))

        let appsWriter = EtcdClient(.init(endpoints: [setup.address], credentials: .init(user: "git2kv-config-config-apps-writer", password: password)))
        let outside = await #expect(throws: KVError.self) { try await appsWriter.put("dns/_root", value: [1]) }
        #expect(outside?.kind == .permissionDenied)
        let reader = EtcdClient(.init(endpoints: [setup.address], credentials: .init(user: "git2kv-config-config-apps-reader", password: password)))
        #expect(try await reader.get("config/apps/web").value != nil)
        let write = await #expect(throws: KVError.self) { try await reader.put("config/apps/web", value: [1]) }
        #expect(write?.kind == .permissionDenied)
    }

    @Test("validate: file:line lines and exit 1 on problems, exit 0 when clean; a bad config names its line")
    func validate() throws {
        let directory = try TemporaryDirectory(prefix: "git2kv-validate")
        defer { directory.remove() }
        let tree = directory.appending("tree")
        try FileManager.default.createDirectory(atPath: tree + "/apps/web", withIntermediateDirectories: true)
        try "{\"ok\": true}\n".write(toFile: tree + "/apps/web/good.json", atomically: true, encoding: .utf8)
        let clean = try Git2KVBinary.run(["validate", tree])
        #expect(clean.status == 0, "\(clean.output)\(clean.errors)")
        #expect(clean.output.isEmpty)
        try "a: [1,\nb: 2\n".write(toFile: tree + "/apps/web/bad.yaml", atomically: true, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: tree + "/apps/out", withDestinationPath: "../../etc/passwd")
        let dirty = try Git2KVBinary.run(["validate", tree])
        #expect(dirty.status == 1)
        let lines = dirty.output.split(separator: "\n")
        #expect(lines.count == 2, "\(dirty.output)")
        #expect(lines.contains { $0.hasPrefix("apps/web/bad.yaml:") && $0.contains("invalid YAML") })
        #expect(lines.contains { $0.hasPrefix("apps/out: ") && $0.contains("outside") })

        let config = directory.appending("bad.yaml")
        try "repos:\n  - name: a\n    url: u\n    mappings: [{prefix: p, layuot: files}]\n".write(toFile: config, atomically: true, encoding: .utf8)
        let badConfig = try Git2KVBinary.run(["validate", "--config", config, tree])
        #expect(badConfig.status == 1)
        #expect(badConfig.errors.contains("\(config):4: unknown key repos[0].mappings[0].layuot"), "\(badConfig.errors)")
    }
}

@Suite("git2kv sync: concurrent processes (end to end)")
struct ConcurrentSyncProcessTests {
    @Test("two sync processes on one mapping at once: both succeed and KV ends equal to the head")
    func twoProcesses() async throws {
        let setup = try await SyncCommandTests.Setup.start()
        defer { setup.stop() }
        try setup.repository.commit("initial", changes: (0..<40).map { .text("apps/dir-\($0)/f.json", "{\"v\": 0}\n") })
        #expect(try setup.run(["sync", "--config", setup.configFile]).status == 0)
        let head = try setup.repository.commit("change all", changes: (0..<40).map { .text("apps/dir-\($0)/f.json", "{\"v\": 1}\n") })
        let results = try await withThrowingTaskGroup(of: ProcessRunner.Result.self) { group in
            for _ in 0..<2 { group.addTask { try setup.run(["sync", "--config", setup.configFile]) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        for result in results { #expect(result.status == 0, "\(result.output)\(result.errors)") }
        let state = try SyncState.decode(try #require(try await setup.kv.get("config/apps/.git2kv/state").value).value)
        #expect(state.commit.id == head)
        for index in 0..<40 {
            let value = try #require(try await setup.kv.get("config/apps/dir-\(index)").value)
            #expect(try BundleDecoder.decode(value.value).file(at: "f.json")?.text == "{\"v\": 1}\n")
        }
    }
}

@Suite("git2kv sync: a stream of commits (end to end)")
struct CommitStreamTests {
    func indexes(_ setup: SyncCommandTests.Setup) async throws -> [String: UInt64] {
        Dictionary(uniqueKeysWithValues: try await setup.kv.list(prefix: "config/apps/").value.map { ($0.key, $0.modifyIndex) })
    }

    @Test("one-file commit, no-op, delete, rename and force push, each checked in KV", arguments: StoreBackend.allCases)
    func commitStream(backend: StoreBackend) async throws {
        let setup = try await SyncCommandTests.Setup.start(backend: backend)
        defer { setup.stop() }
        let sync = { () throws -> ProcessRunner.Result in try setup.run(["sync", "--config", setup.configFile]) }
        let base = try setup.repository.commit(
            "initial",
            changes: [.text("apps/web/a.json", "{\"a\": 1}\n"), .text("apps/api/b.yaml", "b: 1\n"), .text("apps/db/c.txt", "c\n")])
        #expect(try sync().status == 0)

        let before = try await indexes(setup)
        try setup.repository.commit("one file", changes: [.text("apps/web/a.json", "{\"a\": 2}\n")])
        let oneFile = try sync()
        #expect(oneFile.output.contains("1 bundle(s) written, 0 deleted") && oneFile.output.contains("1 transaction(s)"), "\(oneFile.output)")
        let after = try await indexes(setup)
        #expect(after["config/apps/api"] == before["config/apps/api"])
        #expect(after["config/apps/db"] == before["config/apps/db"])
        #expect(after["config/apps/web"] == after["config/apps/.git2kv/state"])

        try setup.repository.emptyCommit("nothing")
        let noOp = try sync()
        #expect(noOp.output.contains("up to date"), "\(noOp.output)")
        #expect(try await indexes(setup) == after)

        try setup.repository.commit("delete db", changes: [.delete("apps/db/c.txt")])
        try setup.repository.commit("rename", changes: [.rename(from: "apps/api/b.yaml", to: "apps/edge/b.yaml")])
        #expect(try sync().status == 0)
        #expect(Set(try await indexes(setup).keys) == ["config/apps/web", "config/apps/edge", "config/apps/.git2kv/state"])

        try setup.repository.forceBranch("main", to: base)
        let forced = try setup.repository.commit("rewritten", changes: [.text("apps/web/a.json", "{\"a\": 3}\n")])
        let force = try sync()
        #expect(force.output.contains("force-pushed"), "\(force.output)")
        #expect(Set(try await indexes(setup).keys) == ["config/apps/web", "config/apps/api", "config/apps/db", "config/apps/.git2kv/state"])
        let state = try SyncState.decode(try #require(try await setup.kv.get("config/apps/.git2kv/state").value).value)
        #expect(state.commit.id == forced)
    }

    @Test("a token without write permission: a clear error, nothing written, the token never printed")
    func tokenWithoutPermission() async throws {
        let directory = try TemporaryDirectory(prefix: "git2kv-e2e-acl")
        defer { directory.remove() }
        let bootstrap = "e2e-bootstrap-secret"
        let (server, port) = try Git2KVBinary.startKVServer(extraArguments: ["--acl-bootstrap-token", bootstrap])
        defer { server.kill() }
        let address = "http://127.0.0.1:\(port)"
        let admin = ConsulClient(.init(address: address, token: bootstrap))
        let reader = try await ACLTokens.create(address: address, bootstrap: bootstrap, rules: #"key_prefix "config/" { policy = "read" }"#)
        let tokenFile = directory.appending("reader.token")
        try reader.write(toFile: tokenFile, atomically: true, encoding: .utf8)
        let repository = try FixtureRepository(at: directory.appending("origin.git"))
        try repository.commit("initial", changes: [.text("apps/web/a.json", "{}\n"), .text("apps/api/b.json", "{}\n")])
        let configFile = directory.appending("git2kv.yaml")
        try DaemonConfigText.yaml(
            kvAddress: address, stateDirectory: directory.appending("state"), repoURL: repository.url,
            mappings: "[{source: apps, prefix: config/apps, token_file: \(tokenFile)}]"
        ).write(toFile: configFile, atomically: true, encoding: .utf8)
        let result = try Git2KVBinary.run(["sync", "--config", configFile])
        #expect(result.status == 1)
        #expect(result.errors.contains("ermission denied"), "\(result.errors)")
        #expect(!result.errors.contains(reader) && !result.output.contains(reader))
        #expect(try await admin.list(prefix: "config/").value.isEmpty)
    }
}
