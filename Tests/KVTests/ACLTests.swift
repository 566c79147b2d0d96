import Foundation
import KV
import KVServer
import Testing

@Suite("ACL tokens and policies")
struct ACLTests {
    static let bootstrap = "b00757ra9-management-token"

    /// Creates a policy from HCL rules and a token holding it; returns the token's secret.
    static func token(_ kv: ServerAndClient, name: String, rules: String) async throws -> String {
        let policyBody = try String(decoding: JSONSerialization.data(withJSONObject: ["Name": name, "Rules": rules]), as: UTF8.self)
        _ = try await kv.json(.PUT, "/v1/acl/policy", body: policyBody, token: bootstrap)
        let token = try await kv.json(.PUT, "/v1/acl/token", body: #"{"Description": "\#(name)", "Policies": [{"Name": "\#(name)"}]}"#, token: bootstrap)
        return try #require((token as? [String: Any])?["SecretID"] as? String)
    }

    @Test("a token writes only under its prefix; the most specific rule wins; denials name key and operation")
    func prefixRules() async throws {
        let kv = try await ServerAndClient.start(server: KVServer(port: 0, aclBootstrapToken: Self.bootstrap, logLevel: .critical))
        let secret = try await Self.token(kv, name: "apps", rules: """
            # the apps mapping
            key_prefix "config/apps/" { policy = "write" }
            key_prefix "config/apps/secret/" { policy = "deny" }
            key "config/shared" { policy = "read" }
            """)
        let admin = kv.client(token: Self.bootstrap)
        try await admin.put("config/shared", value: [1])
        try await admin.put("config/apps/secret/db", value: [1])
        try await admin.put("config/other/x", value: [1])
        let apps = kv.client(token: secret)

        #expect(try await apps.put("config/apps/web", value: [2]))
        #expect(try await apps.get("config/shared").value?.value == [1])
        let denied = await #expect(throws: KVError.self) { try await apps.put("config/other/x", value: [2]) }
        #expect(denied?.kind == .permissionDenied)
        #expect(denied?.description.contains("put config/other/x") == true)
        #expect(denied?.description.contains("key:write") == true)
        #expect(await #expect(throws: KVError.self) { try await apps.put("config/shared", value: [2]) }?.kind == .permissionDenied)
        #expect(await #expect(throws: KVError.self) { try await apps.get("config/apps/secret/db") }?.kind == .permissionDenied)
        #expect(await #expect(throws: KVError.self) { try await apps.deleteTree(prefix: "config/apps/") }?.kind == .permissionDenied,
            "a recursive delete may not reach a denied subtree")

        let listed = try await apps.list(prefix: "config/").value.map(\.key)
        #expect(listed == ["config/apps/web", "config/shared"], "listings leave out what the token may not read")
        let names = try await apps.keys(prefix: "config/", separator: nil, options: .default).value
        #expect(!names.contains("config/other/x"))

        let transaction = await #expect(throws: KVError.self) {
            try await apps.transaction([.set(key: "config/apps/a", value: [1]), .set(key: "config/other/y", value: [1])])
        }
        #expect(transaction?.kind == .permissionDenied)
        #expect(transaction?.failures.map(\.operationIndex) == [1])
        #expect(transaction?.failures.first?.reason.contains("config/other/y") == true)
        #expect(try await admin.get("config/apps/a").value == nil, "nothing of a denied transaction is applied")
        await kv.stop()
    }

    @Test("no token, an unknown token, and ACL management without acl:write are refused")
    func anonymousAndUnknown() async throws {
        let kv = try await ServerAndClient.start(server: KVServer(port: 0, aclBootstrapToken: Self.bootstrap, logLevel: .critical))
        try await kv.client(token: Self.bootstrap).put("k", value: [1])
        #expect(await #expect(throws: KVError.self) { try await kv.client(token: nil).get("k") }?.kind == .permissionDenied)
        let unknown = await #expect(throws: KVError.self) { try await kv.client(token: "made-up").get("k") }
        #expect(unknown?.kind == .permissionDenied)
        #expect(unknown?.message.contains("ACL not found") == true)
        #expect(unknown?.description.contains("made-up") == false, "the token is never echoed")

        let reader = try await Self.token(kv, name: "reader", rules: #"{"key_prefix": {"": {"policy": "read"}}}"#)
        #expect(try await kv.client(token: reader).get("k").value?.value == [1])
        #expect(try await kv.request(.PUT, "/v1/acl/policy", body: #"{"Name": "x", "Rules": ""}"#, token: reader).status == 403)
        let badRules = try await kv.request(.PUT, "/v1/acl/policy", body: #"{"Name": "bad", "Rules": "key_prefix \"a\" { policy = \"sideways\" }"}"#, token: Self.bootstrap)
        #expect(badRules.status == 400)
        #expect(badRules.body.contains("line 1"))
        await kv.stop()
    }

    @Test("without a bootstrap token ACLs are off and /v1/acl answers 401")
    func aclsOff() async throws {
        let kv = try await ServerAndClient.start()
        #expect(try await kv.request(.PUT, "/v1/acl/policy", body: #"{"Name": "x"}"#).status == 401)
        #expect(try await kv.client(token: "anything").put("k", value: [1]))
        await kv.stop()
    }
}
