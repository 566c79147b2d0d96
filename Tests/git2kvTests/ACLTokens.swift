import Foundation
import TestFixtures

/// Creates a policy and a token holding it on a kv-server, through Consul's /v1/acl API (curl).
enum ACLTokens {
    static func create(address: String, bootstrap: String, rules: String) async throws -> String {
        let name = "policy-\(UUID().uuidString.prefix(8))"
        let policy = try JSONSerialization.data(withJSONObject: ["Name": name, "Rules": rules])
        _ = try put(address + "/v1/acl/policy", body: policy, token: bootstrap)
        let token = try put(
            address + "/v1/acl/token", body: Data(#"{"Description": "test", "Policies": [{"Name": "\#(name)"}]}"#.utf8), token: bootstrap)
        guard let secret = (try JSONSerialization.jsonObject(with: token) as? [String: Any])?["SecretID"] as? String else {
            throw ACLSetupFailure(reply: String(decoding: token, as: UTF8.self))
        }
        return secret
    }

    private static func put(_ url: String, body: Data, token: String) throws -> Data {
        let result = try ProcessRunner.run(
            "/usr/bin/curl", ["-sS", "-f", "-X", "PUT", "-H", "X-Consul-Token: \(token)", "--data-binary", "@-", url], input: Array(body))
        guard result.status == 0 else { throw ACLSetupFailure(reply: result.errors) }
        return Data(result.standardOutput)
    }
}

struct ACLSetupFailure: Error {
    let reply: String
}
