import KV
import TestFixtures
import StoreFixtures
import Testing

/// etcd-specific behaviour of the client against a real etcd member.
@Suite("etcd client")
struct EtcdClientTests {
    @Test("a blocking read whose start revision was compacted reads afresh instead of failing")
    func compactedWatch() async throws {
        let store = try await TestStore.start(.etcd)
        defer { Task { await store.stop() } }
        let kv = store.kv
        try await kv.put("w", value: [1])
        let first = try await kv.get("w")
        try await kv.put("w", value: [2])
        try await kv.put("w", value: [3])
        try await store.etcd?.compact()
        let read = try await kv.get("w", options: KVReadOptions(waitIndex: first.index, waitTime: .seconds(20)))
        #expect(read.value?.value == [3])
        #expect(read.index > first.index)
        let quiet = try await kv.get("w", options: KVReadOptions(waitIndex: read.index, waitTime: .milliseconds(500)))
        #expect(quiet.index == read.index, "after the re-read the watch continues from the new revision")
    }

    @Test("a prefix's index moves only with its own keys, so a sync's drift check ignores other prefixes")
    func prefixIndex() async throws {
        let store = try await TestStore.start(.etcd)
        defer { Task { await store.stop() } }
        let kv = store.kv
        try await kv.put("a/x", value: [1])
        let before = try await kv.keys(prefix: "a/", separator: nil, options: .default).index
        try await kv.put("b/y", value: [1])
        #expect(try await kv.keys(prefix: "a/", separator: nil, options: .default).index == before)
        try await kv.put("a/z", value: [1])
        #expect(try await kv.keys(prefix: "a/", separator: nil, options: .default).index > before)
    }

    @Test("an unreachable endpoint is skipped for the next member")
    func skipsDeadEndpoint() async throws {
        let cluster = try EtcdCluster()
        defer { cluster.stop() }
        try await cluster.waitUntilReady()
        let dead = "http://127.0.0.1:\(ClosedPort.find())"
        let client = EtcdClient(.init(endpoints: [dead] + cluster.endpoints, requestTimeout: .seconds(5)))
        #expect(try await client.put("k", value: [1]))
        #expect(try await client.get("k").value?.value == [1])
    }

    @Test("values and transactions over etcd's request limit are refused before sending")
    func limits() async throws {
        let store = try await TestStore.start(.etcd)
        defer { Task { await store.stop() } }
        let big = [UInt8](repeating: 7, count: KVLimits.etcd.maxValueSize + 1)
        let value = await #expect(throws: KVError.self) { try await store.kv.put("big", value: big) }
        #expect(value?.kind == .tooLarge)
        let half = [UInt8](repeating: 7, count: KVLimits.etcd.maxValueSize)
        let txn = await #expect(throws: KVError.self) {
            try await store.kv.transaction([.set(key: "a", value: half), .set(key: "b", value: half)])
        }
        #expect(txn?.kind == .tooLarge)
    }

    @Test("auth: a user writes only its prefix, a reader only reads, a wrong password is refused without echoing it")
    func auth() async throws {
        let store = try await TestStore.start(.etcd)
        defer { Task { await store.stop() } }
        let cluster = try #require(store.etcd)
        try await cluster.addUser("apps", password: "apps-secret", prefixes: ["config/apps/"], write: true)
        try await cluster.addUser("node", password: "node-secret", prefixes: ["config/apps/"], write: false)
        try await cluster.enableAuth(rootPassword: "root-secret")

        let writer = store.client(token: "apps:apps-secret")
        #expect(try await writer.put("config/apps/web", value: [1]))
        let outside = await #expect(throws: KVError.self) { try await writer.put("config/other", value: [1]) }
        #expect(outside?.kind == .permissionDenied)

        let reader = store.client(token: "node:node-secret")
        #expect(try await reader.get("config/apps/web").value?.value == [1])
        let write = await #expect(throws: KVError.self) { try await reader.put("config/apps/web", value: [2]) }
        #expect(write?.kind == .permissionDenied)

        let wrong = store.client(token: "apps:not-the-password")
        let refused = await #expect(throws: KVError.self) { try await wrong.get("config/apps/web") }
        #expect(refused?.kind == .permissionDenied)
        #expect(refused.map { !"\($0)".contains("not-the-password") } == true)

        let malformed = #expect(throws: KVError.self) { try EtcdClient.Credentials.parse("no-colon-secret") }
        #expect(malformed.map { !"\($0)".contains("no-colon-secret") } == true)
        let parsed = try EtcdClient.Credentials.parse("apps:apps-secret")
        #expect(!"\(parsed) \(String(reflecting: parsed)) \(EtcdClient.Configuration(endpoints: [], credentials: parsed))".contains("apps-secret"))
    }

    @Test("an expired auth token is replaced by logging in again, without the caller noticing")
    func expiredTokenRenewed() async throws {
        let cluster = try EtcdCluster(extraArguments: ["--auth-token-ttl", "1"])
        defer { cluster.stop() }
        try await cluster.waitUntilReady()
        try await cluster.addUser("apps", password: "apps-secret", prefixes: ["config/apps/"], write: true)
        try await cluster.enableAuth(rootPassword: "root-secret")
        let client = EtcdClient(.init(endpoints: cluster.endpoints, credentials: .init(user: "apps", password: "apps-secret")))
        #expect(try await client.put("config/apps/a", value: [1]))
        try await Task.sleep(for: .seconds(3))
        #expect(try await client.get("config/apps/a").value?.value == [1], "the token expired after 1 s; the client logged in again")
    }

    @Test("an expired lease frees its lock and a guarded write of the old holder fails")
    func leaseExpiry() async throws {
        let store = try await TestStore.start(.etcd)
        defer { Task { await store.stop() } }
        let kv = store.kv
        let old = try await kv.createSession(KVSessionOptions(name: "old", ttl: .seconds(4), lockDelay: .zero))
        #expect(try await kv.acquire("lead", value: [1], session: old))
        let deadline = ContinuousClock.now + .seconds(30)
        while try await kv.get("lead").value != nil, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(200))
        }
        #expect(try await kv.get("lead").value == nil, "the lock key goes with its lease")
        #expect(!(try await kv.renewSession(old)))
        let refused = await #expect(throws: KVError.self) {
            try await kv.transaction([.checkSession(key: "lead", session: old), .set(key: "x", value: [1])])
        }
        #expect(refused?.kind == .transactionFailed)
        let new = try await kv.createSession(KVSessionOptions(name: "new", ttl: .seconds(60), lockDelay: .zero))
        #expect(try await kv.acquire("lead", value: [2], session: new))
    }
}
