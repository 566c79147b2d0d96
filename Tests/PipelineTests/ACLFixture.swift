import AsyncHTTPClient
import Foundation
import KV
import NIOCore
import Testing

/// Creates a Consul ACL policy and a token holding it on a kv-server, via /v1/acl.
enum ACLFixture {
    static func token(_ harness: SyncHarness, name: String, rules: String, bootstrap: String) async throws -> String {
        let policy = try JSONSerialization.data(withJSONObject: ["Name": name, "Rules": rules])
        _ = try await send("/v1/acl/policy", body: policy, harness: harness, token: bootstrap)
        let token = try await send(
            "/v1/acl/token", body: Data(#"{"Description": "\#(name)", "Policies": [{"Name": "\#(name)"}]}"#.utf8), harness: harness,
            token: bootstrap)
        let object = try JSONSerialization.jsonObject(with: token) as? [String: Any]
        return try #require(object?["SecretID"] as? String)
    }

    private static func send(_ path: String, body: Data, harness: SyncHarness, token: String) async throws -> Data {
        var request = HTTPClientRequest(url: harness.server.address + path)
        request.method = .PUT
        request.headers.add(name: "X-Consul-Token", value: token)
        request.body = .bytes(ByteBuffer(bytes: body))
        let response = try await ConsulClient.sharedHTTPClient.execute(request, timeout: .seconds(10))
        let collected = try await response.body.collect(upTo: 1 << 20)
        return Data(buffer: collected)
    }
}
