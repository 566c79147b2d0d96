import BundleFormat
import Foundation
import KV
import Pipeline
import Renderer
import StoreFixtures
import TestFixtures
import Testing

/// HA as deployed: two `git2kv serve` replicas (and two `git2kv hosts` generators) on
/// kv-server and on a real etcd. The session TTL is 120 s, so a handover well within it did not
/// wait for a session to expire, and the poll interval is 300 s, so a commit that arrives well
/// within it came through a webhook. The bounds leave room for a loaded machine; the measured
/// times (about 0.1 s) are printed, and `scripts/reliability` holds them to its 2 s goal.
@Suite("HA handover (end to end)", .serialized)
struct HandoverProcessTests {
    static let secret = "handover-webhook-secret"

    struct Replicas {
        let store: E2EStore
        let directory: TemporaryDirectory
        let repository: FixtureRepository
        let configFile: String

        static func start(_ backend: StoreBackend) async throws -> Replicas {
            let store = try await E2EStore.start(backend)
            let directory = try TemporaryDirectory(prefix: "git2kv-handover")
            let repository = try FixtureRepository(at: directory.appending("origin.git"))
            try repository.commit("initial", changes: [.text("apps/web/port", "0"), .text("more/db/port", "5432")])
            let secretFile = directory.appending("webhook-secret")
            try HandoverProcessTests.secret.write(toFile: secretFile, atomically: true, encoding: .utf8)
            let configFile = directory.appending("git2kv.yaml")
            try DaemonConfigText.yaml(
                kvAddress: store.address, kvSetting: store.kvSetting, stateDirectory: directory.appending("state"), repoURL: repository.url,
                mappings: "[{source: apps, prefix: config/apps}, {source: more, prefix: config/more}]",
                repoSettings: ["poll_interval: 300s", "webhook: { provider: generic, secret_file: \(secretFile) }"],
                topLevel: ["http: { listen: \"127.0.0.1:0\" }", "ha: { session_ttl: 120s }"]
            ).write(toFile: configFile, atomically: true, encoding: .utf8)
            return Replicas(store: store, directory: directory, repository: repository, configFile: configFile)
        }

        func serve() throws -> BackgroundProcess {
            try BackgroundProcess(Git2KVBinary.path, ["serve", "--config", configFile, "--log-level", "warning"])
        }

        func live(_ prefix: String = "config/apps") async throws -> String? {
            guard let entry = try await store.kv.get(prefix + "/.git2kv/state").value else { return nil }
            return try SyncState.decode(entry.value).commit.id
        }

        func holder(_ key: String) async throws -> String? {
            try await store.kv.get(key).value?.session
        }

        func stop() {
            store.stop()
            directory.remove()
        }
    }

    static func post(webhook port: Int, body: String) throws -> (status: Int, message: String) {
        let result = try ProcessRunner.run(
            "/usr/bin/curl",
            ["-s", "-o", "-", "-w", "\n%{http_code}", "-X", "POST", "-H", "X-Git2KV-Token: \(secret)", "-H", "Content-Type: application/json",
             "--data-binary", body, "http://127.0.0.1:\(port)/webhooks/config"])
        let lines = result.output.split(separator: "\n", omittingEmptySubsequences: false)
        return (Int(lines.last ?? "") ?? 0, lines.dropLast().joined(separator: "\n"))
    }

    static func health(_ port: Int) throws -> [String: Any] {
        let output = try ProcessRunner.run("/usr/bin/curl", ["-s", "http://127.0.0.1:\(port)/health"]).output
        return (try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any]) ?? [:]
    }

    static func role(_ port: Int) throws -> (role: String, ready: Bool)? {
        guard let repo = (try health(port)["repos"] as? [[String: Any]])?.first, let role = repo["role"] as? String else { return nil }
        return (role, repo["poll_current"] as? Bool ?? false)
    }

    @Test("SIGTERM to the leader hands over at once; a webhook sent to a follower reaches KV through the leader", arguments: StoreBackend.allCases)
    func serveHandover(backend: StoreBackend) async throws {
        let replicas = try await Replicas.start(backend)
        defer { replicas.stop() }
        let first = try replicas.serve()
        defer { first.kill() }
        let initial = try replicas.repository.head()
        try await eventually("the first replica to sync") { try await replicas.live() == initial }
        let second = try replicas.serve()
        defer { second.kill() }
        let firstPort = try #require(first.announcedPort)
        let secondPort = try #require(second.announcedPort)
        try await eventually("the second replica to be a ready follower") { try Self.role(secondPort).map { $0 == ("follower", true) } ?? false }
        #expect(try Self.role(firstPort).map { $0 == ("leader", true) } == true)

        // Every mapping's transactions are guarded by a key its own prefix holds, locked by the leader's session.
        let session = try #require(try await replicas.holder("config/apps/.git2kv/leader"))
        #expect(try await replicas.holder("config/more/.git2kv/leader") == session)

        // A webhook on the follower.
        let viaFollower = try replicas.repository.commit("port 1", changes: [.text("apps/web/port", "1")])
        var started = ContinuousClock.now
        let answer = try Self.post(webhook: secondPort, body: #"{"ref":"refs/heads/main","after":"\#(viaFollower)"}"#)
        #expect(answer.status == 202)
        #expect(answer.message.contains("does not lead") && answer.message.contains("passed to the leader"), "\(answer.message)")
        try await eventually("the follower's webhook to reach KV", timeout: .seconds(60)) { try await replicas.live() == viaFollower }
        let forwardLatency = started.duration(to: .now)
        #expect(forwardLatency < .seconds(40), "took \(forwardLatency): the leader did not act on the forwarded request")

        // SIGTERM to the leader: the follower holds the lock and its guards long before the TTL.
        started = ContinuousClock.now
        first.kill(SIGTERM)
        let stopTime = started.duration(to: .now)
        // The new leader takes each mapping's guard key in turn: wait for both.
        try await eventually("the follower to take the lock and both guards", timeout: .seconds(60)) {
            let holder = try await replicas.holder("config/apps/.git2kv/leader")
            let other = try await replicas.holder("config/more/.git2kv/leader")
            return holder != nil && holder != session && other == holder
        }
        let takeover = started.duration(to: .now)
        let afterHandover = try replicas.repository.commit("port 2", changes: [.text("apps/web/port", "2"), .text("more/db/port", "5433")])
        let committed = ContinuousClock.now
        let second202 = try Self.post(webhook: secondPort, body: #"{"ref":"refs/heads/main","after":"\#(afterHandover)"}"#)
        #expect(second202.status == 202 && second202.message.contains("leads"), "\(second202.message)")
        try await eventually("the new leader to write the next commit", timeout: .seconds(60)) {
            let apps = try await replicas.live()
            let more = try await replicas.live("config/more")
            return apps == afterHandover && more == afterHandover
        }
        let writeLatency = committed.duration(to: .now)
        #expect(takeover < .seconds(40), "the lock moved after \(takeover): a session TTL (120 s) was waited out")
        print("handover on \(backend): leader exited in \(stopTime), follower leading after \(takeover); follower webhook → KV \(forwardLatency); commit after handover → KV \(writeLatency)")
        let bundle = try #require(try await replicas.store.kv.get("config/apps/web").value)
        #expect(try BundleDecoder.decode(bundle.value).file(at: "port")?.text == "2")
    }

    @Test("etcd with a user per mapping: each mapping's guard is taken with its own user, and SIGTERM leaves no lock behind")
    func etcdGuardsWithOwnUsers() async throws {
        let cluster = try EtcdCluster()
        defer { cluster.stop() }
        try await cluster.waitUntilReady()
        try await cluster.addUser("apps-writer", password: "apps-pass", prefixes: ["config/apps/"], write: true)
        try await cluster.addUser("more-writer", password: "more-pass", prefixes: ["config/more/"], write: true)
        try await cluster.enableAuth(rootPassword: "root-pass")
        let root = EtcdClient(.init(endpoints: cluster.endpoints, credentials: .init(user: "root", password: "root-pass")))
        let directory = try TemporaryDirectory(prefix: "git2kv-etcd-guards")
        defer { directory.remove() }
        let repository = try FixtureRepository(at: directory.appending("origin.git"))
        let head = try repository.commit("initial", changes: [.text("apps/web/port", "0"), .text("more/db/port", "5432")])
        try "apps-writer:apps-pass".write(toFile: directory.appending("apps.token"), atomically: true, encoding: .utf8)
        try "more-writer:more-pass".write(toFile: directory.appending("more.token"), atomically: true, encoding: .utf8)
        let config = directory.appending("git2kv.yaml")
        try DaemonConfigText.yaml(
            kvAddress: cluster.endpoints[0], kvSetting: StoreBackend.etcd.kvSetting(address: cluster.endpoints[0]),
            stateDirectory: directory.appending("state"), repoURL: repository.url,
            mappings: """
                [{source: apps, prefix: config/apps, token_file: \(directory.appending("apps.token"))}, \
                {source: more, prefix: config/more, token_file: \(directory.appending("more.token"))}]
                """,
            topLevel: ["http: { listen: \"127.0.0.1:0\" }", "ha: { session_ttl: 120s }"]
        ).write(toFile: config, atomically: true, encoding: .utf8)
        let serve = try BackgroundProcess(Git2KVBinary.path, ["serve", "--config", config, "--log-level", "warning"])
        defer { serve.kill() }
        try await eventually("both mappings to sync under their own users") {
            let apps = try await root.get("config/apps/.git2kv/state").value
            let more = try await root.get("config/more/.git2kv/state").value
            return try apps.map { try SyncState.decode($0.value).commit.id } == head && more.map { try SyncState.decode($0.value).commit.id } == head
        }
        let lease = try #require(try await root.get("config/apps/.git2kv/leader").value?.session)
        #expect(try await root.get("config/more/.git2kv/leader").value?.session == lease, "the guard is attached to the leader's lease")
        #expect(serve.stop(SIGTERM) == 0)
        #expect(try await root.get("config/apps/.git2kv/leader").value == nil, "SIGTERM released the lock")
        #expect(try await root.get("config/more/.git2kv/leader").value == nil, "SIGTERM released the guard")
    }

    @Test("a second hosts generator takes over at once when the leader gets SIGTERM", arguments: StoreBackend.allCases)
    func hostsHandover(backend: StoreBackend) async throws {
        let store = try await E2EStore.start(backend)
        defer { store.stop() }
        // The catalog is Consul's API: the kv-server binary, also when the bundle goes to etcd.
        let catalogServer = backend == .kvServer ? nil : try Git2KVBinary.startKVServer()
        defer { catalogServer?.0.kill() }
        let catalogAddress = catalogServer.map { "http://127.0.0.1:\($0.1)" } ?? store.address
        let directory = try TemporaryDirectory(prefix: "git2kv-hosts-handover")
        defer { directory.remove() }
        try Self.register(node: "n1", address: "10.0.0.1", at: catalogAddress)
        let configFile = directory.appending("hosts.yaml")
        try """
            kv: \(store.kvSetting)
            catalog: { address: "\(catalogAddress)" }
            key: dns/hosts
            refresh: 2s
            lock: { session_ttl: 120s }

            """.write(toFile: configFile, atomically: true, encoding: .utf8)
        let generators = try Self.startHostsGenerators(configFile: configFile)
        defer { for generator in generators { generator.kill() } }
        let (leader, lock) = try await Self.leader(of: generators, kv: store.kv)
        let follower = try #require(generators.first { $0 !== leader })

        let started = ContinuousClock.now
        leader.kill(SIGTERM)
        try await eventually("the other generator to take the lock", timeout: .seconds(60)) {
            guard let entry = try await store.kv.get("dns/hosts.lock").value, entry.session != nil, entry.session != lock.session else { return false }
            return (try JSONSerialization.jsonObject(with: Data(entry.value)) as? [String: Any])?["pid"] as? Int == Int(follower.processIdentifier)
        }
        let takeover = started.duration(to: .now)
        try Self.register(node: "n2", address: "10.0.0.2", at: catalogAddress)
        try await eventually("the new leader to publish the change", timeout: .seconds(60)) {
            try await Self.hosts(store.kv)?.contains("n2.node.consul") == true
        }
        let published = started.duration(to: .now)
        #expect(takeover < .seconds(40), "the lock moved after \(takeover): a session TTL (120 s) was waited out")
        print("hosts handover on \(backend): follower leading after \(takeover), new node published after \(published)")
    }

    @Test("a hosts generator killed with -9 loses no catalog event: what changed while nobody led is in the new leader's first publish")
    func hostsFailoverAfterKill() async throws {
        let store = try await E2EStore.start(.kvServer)
        defer { store.stop() }
        let directory = try TemporaryDirectory(prefix: "git2kv-hosts-kill")
        defer { directory.remove() }
        try Self.register(node: "n1", address: "10.0.0.1", at: store.address)
        let configFile = directory.appending("hosts.yaml")
        try """
            kv: \(store.kvSetting)
            key: dns/hosts
            lock: { session_ttl: 10s, lock_delay: 0s }

            """.write(toFile: configFile, atomically: true, encoding: .utf8)
        let generators = try Self.startHostsGenerators(configFile: configFile)
        defer { for generator in generators { generator.kill() } }
        let (leader, _) = try await Self.leader(of: generators, kv: store.kv)

        leader.kill()
        // Changes while the lock is still held by a dead session: the follower must not miss them.
        try Self.register(node: "n2", address: "10.0.0.2", at: store.address)
        try Self.register(node: "n1", address: "10.0.0.11", at: store.address)
        try await eventually("the new leader to publish both changes", timeout: .seconds(60)) {
            guard let text = try await Self.hosts(store.kv) else { return false }
            return text.contains("10.0.0.2 n2.node.consul") && text.contains("10.0.0.11 n1.node.consul") && !text.contains("10.0.0.1 n1.node.consul")
        }
    }

    /// Two `git2kv hosts` processes on one configuration.
    static func startHostsGenerators(configFile: String) throws -> [BackgroundProcess] {
        try (0..<2).map { _ in try BackgroundProcess(Git2KVBinary.path, ["hosts", "--config", configFile, "--log-level", "warning"]) }
    }

    /// Once a hosts file naming n1 is published: the generator holding the lock, and the lock.
    static func leader(of generators: [BackgroundProcess], kv: any KVStore) async throws -> (BackgroundProcess, KVEntry) {
        try await eventually("a hosts file to be published") { try await hosts(kv)?.contains("n1.node.consul") == true }
        let lock = try #require(try await kv.get("dns/hosts.lock").value)
        let leaderPID = try #require((try JSONSerialization.jsonObject(with: Data(lock.value)) as? [String: Any])?["pid"] as? Int)
        return (try #require(generators.first { Int($0.processIdentifier) == leaderPID }), lock)
    }

    static func register(node: String, address: String, at catalog: String) throws {
        let body = #"{"Node":"\#(node)","Address":"\#(address)"}"#
        let result = try ProcessRunner.run("/usr/bin/curl", ["-sf", "-X", "PUT", "--data-binary", body, catalog + "/v1/catalog/register"])
        #expect(result.status == 0)
    }

    static func hosts(_ kv: any KVStore) async throws -> String? {
        guard let entry = try await kv.get("dns/hosts").value else { return nil }
        return try await BundleReader(store: kv).verify(entry).bundle.file(at: "hosts")?.text
    }
}
