import BundleFormat
import Foundation
import KV
import Pipeline
import TestFixtures
import Testing

/// `git2kv serve` as operators run it: the binary against the kv-server binary.
@Suite("git2kv serve (end to end)", .serialized)
struct ServeProcessTests {
    struct Setup {
        let directory: TemporaryDirectory
        let repository: FixtureRepository
        let server: BackgroundProcess
        let kv: ConsulClient
        let configFile: String
        /// The kv-server's data directory, when it was started durable.
        let dataDirectory: String?
        let ha: String

        /// With `durable`, the kv-server keeps its data in a directory, so it can be restarted.
        static func start(durable: Bool = false, ha: String = "{ session_ttl: 2s, lock_delay: 0s }") throws -> Setup {
            let directory = try TemporaryDirectory(prefix: "git2kv-e2e-serve")
            let repository = try FixtureRepository(at: directory.appending("origin.git"))
            try repository.commit("initial", changes: [.text("apps/web/port", "0"), .text("more/db/port", "5432")])
            let dataDirectory = durable ? directory.appending("kv-data") : nil
            let (server, port) = try Git2KVBinary.startKVServer(dataDirectory: dataDirectory, extraArguments: ["--min-session-ttl", "1s"])
            let setup = Setup(
                directory: directory, repository: repository, server: server, kv: ConsulClient(.init(address: "http://127.0.0.1:\(port)")),
                configFile: directory.appending("git2kv.yaml"), dataDirectory: dataDirectory, ha: ha)
            try setup.writeConfig(mappings: "[{source: apps, prefix: config/apps}]")
            return setup
        }

        func writeConfig(mappings: String) throws {
            try DaemonConfigText.yaml(
                kvAddress: kv.configuration.address, stateDirectory: directory.appending("state-\(UUID().uuidString.prefix(4))"),
                repoURL: repository.url, mappings: mappings, repoSettings: ["poll_interval: 1s"],
                topLevel: ["http: { listen: \"127.0.0.1:0\" }", "ha: \(ha)"]
            ).write(toFile: configFile, atomically: true, encoding: .utf8)
        }

        func serve(logLevel: String = "warning") throws -> BackgroundProcess {
            try BackgroundProcess(Git2KVBinary.path, ["serve", "--config", configFile, "--log-level", logLevel])
        }

        func live(_ prefix: String = "config/apps") async throws -> (commit: String, index: UInt64)? {
            guard let entry = try await kv.get(prefix + "/.git2kv/state").value else { return nil }
            return (try SyncState.decode(entry.value).commit.id, entry.modifyIndex)
        }

        func waitFor(_ what: String, timeout: Duration = .seconds(30), _ condition: () async throws -> Bool) async throws {
            try await eventually(what, timeout: timeout, condition)
        }

        func stop() {
            server.kill()
            directory.remove()
        }
    }

    /// The pid written into the leader lock's value by the replica holding it.
    static func leaderPID(_ kv: ConsulClient) async throws -> Int32? {
        guard let entry = try await kv.get("config/apps/.git2kv/leader").value, entry.session != nil,
            let object = try JSONSerialization.jsonObject(with: Data(entry.value)) as? [String: Any]
        else { return nil }
        return (object["pid"] as? Int).map(Int32.init)
    }

    @Test("kill -9 the leader mid-stream of commits: the follower takes over, KV ends equal to git, no commit goes backwards")
    func leaderFailover() async throws {
        let setup = try Setup.start()
        defer { setup.stop() }
        let first = try setup.serve()
        try await setup.waitFor("the first replica to sync") { try await setup.live()?.commit == setup.repository.head() }
        let second = try setup.serve()
        let replicas = [first, second]
        try await setup.waitFor("a leader") { try await Self.leaderPID(setup.kv) != nil }

        let kv = setup.kv
        let seen = Task {
            var commits: [String] = []
            var index: UInt64?
            while !Task.isCancelled {
                guard let read = try? await kv.get("config/apps/.git2kv/state", options: KVReadOptions(waitIndex: index, waitTime: .seconds(1))) else {
                    continue
                }
                index = read.index
                if let entry = read.value, let state = try? SyncState.decode(entry.value), commits.last != state.commit.id {
                    commits.append(state.commit.id)
                }
            }
            return commits
        }

        var history = [try setup.repository.head()]
        var killed: BackgroundProcess?
        for round in 1...20 {
            history.append(try setup.repository.commit("port \(round)", changes: [.text("apps/web/port", "\(round)")]))
            if round == 8, let pid = try await Self.leaderPID(setup.kv), let leader = replicas.first(where: { $0.processIdentifier == pid }) {
                leader.kill()
                killed = leader
            }
            try await Task.sleep(for: .milliseconds(150))
        }
        #expect(killed != nil, "the leader's pid was not in the lock")
        let head = history.last!
        try await setup.waitFor("the surviving replica to sync the last commit", timeout: .seconds(40)) {
            try await setup.live()?.commit == head
        }
        seen.cancel()
        let commits = await seen.value
        let positions = commits.compactMap { history.firstIndex(of: $0) }
        #expect(positions.count == commits.count, "KV named commits that are not on the branch")
        #expect(positions == positions.sorted() && Set(positions).count == positions.count, "a commit was written out of order or twice: \(positions)")
        let bundle = try #require(try await setup.kv.get("config/apps/web").value)
        #expect(try BundleDecoder.decode(bundle.value).file(at: "port")?.text == "20")
        let survivor = replicas.first { $0 !== killed }
        #expect(survivor?.isRunning == true)
        survivor?.kill(SIGTERM)
    }

    @Test("SIGHUP with a bad config keeps the old one running; with a good one it adds the new mapping; SIGTERM exits")
    func reloadAndTerminate() async throws {
        let setup = try Setup.start()
        defer { setup.stop() }
        let serve = try setup.serve()
        try await setup.waitFor("the first sync") { try await setup.live()?.commit == setup.repository.head() }

        try "repos: [ {name: broken".write(toFile: setup.configFile, atomically: true, encoding: .utf8)
        kill(serve.processIdentifier, SIGHUP)
        try await Task.sleep(for: .milliseconds(500))
        #expect(serve.isRunning, "a bad config on SIGHUP stopped the daemon")
        let next = try setup.repository.commit("port 1", changes: [.text("apps/web/port", "1")])
        try await setup.waitFor("the old config to keep syncing") { try await setup.live()?.commit == next }

        try setup.writeConfig(mappings: "[{source: apps, prefix: config/apps}, {source: more, prefix: config/more}]")
        kill(serve.processIdentifier, SIGHUP)
        try await setup.waitFor("the added mapping to sync") { try await setup.live("config/more")?.commit == next }

        serve.kill(SIGTERM)
        #expect(!serve.isRunning)
        try await setup.waitFor("the leader lock to be released on SIGTERM", timeout: .seconds(5)) {
            try await setup.kv.get("config/apps/.git2kv/leader").value?.session == nil
        }
    }

    @Test("kv-server killed and restarted mid-stream: serve keeps running, retries, and KV ends equal to git")
    func kvServerRestart() async throws {
        let setup = try Setup.start(durable: true, ha: "{ enabled: false }")
        defer { setup.stop() }
        let serve = try setup.serve(logLevel: "critical")
        defer { serve.kill() }
        guard let daemonPort = serve.announcedPort, let dataDirectory = setup.dataDirectory else { throw CancellationError() }
        var restarted: BackgroundProcess?
        defer { restarted?.kill() }

        try await setup.waitFor("the first sync") { try await setup.live()?.commit == setup.repository.head() }
        for round in 1...6 {
            try setup.repository.commit("port \(round)", changes: [.text("apps/web/port", "\(round)")])
            if round == 3 {
                setup.server.kill()
                try await Task.sleep(for: .seconds(1.5))
                #expect(serve.isRunning, "serve exited when KV went away")
                let address = setup.kv.configuration.address.replacingOccurrences(of: "http://", with: "")
                restarted = try Git2KVBinary.startKVServer(dataDirectory: dataDirectory, extraArguments: ["--listen", address]).0
            }
            try await Task.sleep(for: .milliseconds(200))
        }
        let head = try setup.repository.head()
        try await setup.waitFor("KV to catch up after the restart", timeout: .seconds(40)) { try await setup.live()?.commit == head }
        let bundle = try #require(try await setup.kv.get("config/apps/web").value)
        #expect(try BundleDecoder.decode(bundle.value).file(at: "port")?.text == "6")
        #expect(serve.isRunning)
        let metrics = try ProcessRunner.run("/usr/bin/curl", ["-sf", "http://127.0.0.1:\(daemonPort)/metrics"]).output
        #expect(metrics.contains("git2kv_syncs_total"), "\(metrics.prefix(400))")
        #expect(metrics.contains(#"outcome="failure""#), "the outage left no failed sync in the metrics")
    }
}
