import Foundation
@testable import KVServer
import Testing
import TestFixtures

/// Consul's ACL identities: the bootstrap token as a real token, the anonymous token, the
/// built-in global-management policy, expirations, identities and list filters.
@Suite("ACL identities", .serialized)
struct ACLIdentityTests {
    private func curl(_ arguments: [String]) throws -> CurlAnswer { try Curl.run(arguments) }

    @Test("bootstrap and anonymous tokens are listed and usable, global-management is built in and fixed, tokens take expirations and identities, roles are refused, lists filter")
    func identities() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let bootstrap = "bootstrap-secret-3"
        try bootstrap.write(toFile: directory.appending("bootstrap"), atomically: true, encoding: .utf8)
        let (server, port) = try Git2KVBinary.startKVServer(extraArguments: ["--acl-bootstrap-token-file", directory.appending("bootstrap")])
        defer { server.kill() }
        let base = "http://127.0.0.1:\(port)"
        let admin = ["-H", "X-Consul-Token: \(bootstrap)"]
        let anonymousAccessor = "00000000-0000-0000-0000-000000000002"
        let management = "00000000-0000-0000-0000-000000000001"

        let me = try curl(admin + ["\(base)/v1/acl/token/self"])
        #expect(me.status == 200)
        #expect((me.object?["Policies"] as? [[String: Any]])?.first?["Name"] as? String == "global-management")
        let bootstrapAccessor = try #require(me.object?["AccessorID"] as? String)

        let listed = try #require(try curl(admin + ["\(base)/v1/acl/tokens"]).list)
        let accessors = listed.compactMap { $0["AccessorID"] as? String }
        #expect(accessors.contains(bootstrapAccessor) && accessors.contains(anonymousAccessor))
        #expect(listed.contains { $0["SecretID"] as? String == "anonymous" }, "the list shows secrets to an acl:write holder, as Consul does")
        let policies = try #require(try curl(admin + ["\(base)/v1/acl/policies"]).list)
        #expect(policies.contains { $0["ID"] as? String == management && $0["Name"] as? String == "global-management" })
        #expect(try curl(admin + ["-X", "DELETE", "\(base)/v1/acl/policy/\(management)"]).status == 400)
        #expect(try curl(admin + ["-X", "PUT", "-d", "{\"Name\":\"global-management\",\"Rules\":\"\"}", "\(base)/v1/acl/policy"]).status == 400)
        #expect(try curl(admin + ["-X", "DELETE", "\(base)/v1/acl/token/\(anonymousAccessor)"]).status == 400)
        #expect(try curl(admin + ["-X", "DELETE", "\(base)/v1/acl/token/\(bootstrapAccessor)"]).status == 400)

        // A token holding global-management may do anything.
        let manager = try curl(admin + ["-X", "PUT", "-d", "{\"Policies\":[{\"ID\":\"\(management)\"}]}", "\(base)/v1/acl/token"])
        let managerSecret = try #require(manager.object?["SecretID"] as? String)
        #expect(try curl(["-X", "PUT", "-H", "X-Consul-Token: \(managerSecret)", "-d", "v", "\(base)/v1/kv/any/key"]).body == "true")

        // The anonymous token: denied until it is given a policy, then requests without a token get it.
        #expect(try curl(["\(base)/v1/kv/any/key"]).status == 403)
        let anonymousSelf = try curl(["\(base)/v1/acl/token/self"])
        #expect(anonymousSelf.object?["AccessorID"] as? String == anonymousAccessor)
        let readAll = try curl(admin + ["-X", "PUT", "-d", "{\"Name\":\"read-all\",\"Rules\":\"key_prefix \\\"\\\" { policy = \\\"read\\\" }\"}", "\(base)/v1/acl/policy"])
        let readAllID = try #require(readAll.object?["ID"] as? String)
        #expect(try curl(admin + ["-X", "PUT", "-d", "{\"Policies\":[{\"ID\":\"\(readAllID)\"}]}", "\(base)/v1/acl/token/\(anonymousAccessor)"]).status == 200)
        #expect(try curl(["\(base)/v1/kv/any/key?raw"]).body == "v")
        #expect(try curl(["-X", "PUT", "-d", "w", "\(base)/v1/kv/any/key"]).status == 403)

        // Expirations, identities, Local; roles refused.
        let expiring = try curl(admin + ["-X", "PUT", "-d", "{\"ExpirationTTL\":\"1h\",\"Local\":true,\"ServiceIdentities\":[{\"ServiceName\":\"web\"}],\"NodeIdentities\":[{\"NodeName\":\"n1\",\"Datacenter\":\"dc1\"}]}", "\(base)/v1/acl/token"])
        #expect(expiring.status == 200, "\(expiring.body)")
        #expect(expiring.object?["ExpirationTime"] is String)
        #expect(expiring.object?["Local"] as? Bool == true)
        #expect((expiring.object?["ServiceIdentities"] as? [[String: Any]])?.first?["ServiceName"] as? String == "web")
        #expect((expiring.object?["NodeIdentities"] as? [[String: Any]])?.first?["NodeName"] as? String == "n1")
        #expect(try curl(admin + ["-X", "PUT", "-d", "{\"ExpirationTTL\":\"10s\"}", "\(base)/v1/acl/token"]).status == 400)
        #expect(try curl(admin + ["-X", "PUT", "-d", "{\"ExpirationTTL\":\"1h\",\"ExpirationTime\":\"2030-01-01T00:00:00Z\"}", "\(base)/v1/acl/token"]).status == 400)
        #expect(try curl(admin + ["-X", "PUT", "-d", "{\"Roles\":[{\"Name\":\"ops\"}]}", "\(base)/v1/acl/token"]).status == 400)
        #expect(try curl(admin + ["-X", "PUT", "-d", "{\"ServiceIdentities\":[{\"ServiceName\":\"Bad Name\"}]}", "\(base)/v1/acl/token"]).status == 400)

        let byPolicy = try #require(try curl(admin + ["\(base)/v1/acl/tokens?policy=\(readAllID)"]).list)
        #expect(byPolicy.compactMap { $0["AccessorID"] as? String } == [anonymousAccessor])
        let byService = try #require(try curl(admin + ["\(base)/v1/acl/tokens?servicename=web"]).list)
        #expect(byService.count == 1)
        #expect(try curl(admin + ["\(base)/v1/acl/tokens?role=ops"]).body == "[]")
    }

    @Test("an expired token is unknown; identities grant their service and node and read the rest")
    func expiryAndIdentityRules() async throws {
        let store = ServerStore(bootstrapToken: "root")
        var token = ACLToken(
            accessorID: "a1", secretID: "s1", description: "", policyIDs: [], isManagement: false, createIndex: 0, modifyIndex: 0,
            expirationTime: Date().addingTimeInterval(-1))
        _ = try await store.saveToken(token)
        #expect(await store.authorizer(for: "s1") == nil, "expired")
        #expect(await !store.tokens.contains { $0.accessorID == "a1" })

        token = ACLToken(
            accessorID: "a2", secretID: "s2", description: "", policyIDs: [], isManagement: false, createIndex: 0, modifyIndex: 0,
            expirationTime: Date().addingTimeInterval(3600), serviceIdentities: [.init(serviceName: "web")],
            nodeIdentities: [.init(nodeName: "n1", datacenter: "dc1")])
        _ = try await store.saveToken(token)
        let authorizer = try #require(await store.authorizer(for: "s2"))
        #expect(authorizer.allows(.service, "web", .write))
        #expect(authorizer.allows(.service, "web-sidecar-proxy", .write))
        #expect(!authorizer.allows(.service, "db", .write))
        #expect(authorizer.allows(.service, "db", .read))
        #expect(authorizer.allows(.node, "n1", .write))
        #expect(!authorizer.allows(.node, "n2", .write))
        #expect(!authorizer.allows(.key, "k", .read))
    }
}
