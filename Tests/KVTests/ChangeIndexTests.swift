import KV
import KVServer
import Testing

/// `changeIndex(under:)`: Consul's collapsed key listing as a cheap "did anything under P/ change?".
@Suite("Change index of a prefix")
struct ChangeIndexTests {
    @Test("the index moves with every write and delete under the prefix, and with nothing outside it")
    func movesWithThePrefix() async throws {
        let kv = try await ServerAndClient.start()
        defer { Task { await kv.stop() } }
        let client = kv.client
        try await client.put("config/apps/web", value: [1])
        try await client.put("config/apps/.git2kv/state", value: [2])
        let first = try #require(try await client.changeIndex(under: "config/apps/"))
        #expect(first == (try await client.keys(prefix: "config/apps/", separator: nil, options: .default).index))

        try await client.put("config/other/x", value: [3])
        try await client.put("config/ap", value: [3])
        #expect(try await client.changeIndex(under: "config/apps/") == first, "writes outside the prefix do not move it")

        try await client.put("config/apps/web", value: [4])
        let edited = try #require(try await client.changeIndex(under: "config/apps/"))
        #expect(edited > first)
        try await client.delete("config/apps/web")
        let deleted = try #require(try await client.changeIndex(under: "config/apps/"))
        #expect(deleted > edited, "a delete moves it too (the tombstone's index)")
    }

    @Test("a sibling sharing the prefix's start (config/apps2/) leaves no cheap answer")
    func siblingSharingTheStart() async throws {
        let kv = try await ServerAndClient.start()
        defer { Task { await kv.stop() } }
        try await kv.client.put("config/apps/web", value: [1])
        try await kv.client.put("config/apps2/web", value: [1])
        #expect(try await kv.client.changeIndex(under: "config/apps/") == nil)
        #expect(try await kv.client.changeIndex(under: "config/apps") == nil, "a prefix without its / is refused")
    }

    @Test("a token scoped to the prefix gets the index; when a sibling is hidden by its ACL there is no cheap answer")
    func scopedToken() async throws {
        let kv = try await ServerAndClient.start(server: KVServer(port: 0, aclBootstrapToken: ACLTests.bootstrap, logLevel: .critical))
        defer { Task { await kv.stop() } }
        let secret = try await ACLTests.token(kv, name: "apps", rules: #"key_prefix "config/apps/" { policy = "write" }"#)
        let admin = kv.client(token: ACLTests.bootstrap)
        let apps = kv.client(token: secret)
        try await apps.put("config/apps/web", value: [1])
        let index = try await apps.changeIndex(under: "config/apps/")
        #expect(index != nil)
        try await admin.put("config/apps2/web", value: [1])
        #expect(try await apps.changeIndex(under: "config/apps/") == nil)
    }
}
