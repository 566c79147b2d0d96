import AsyncHTTPClient
import Foundation
import KV
import KVServer
import NIOCore
import NIOHTTP1

/// A kv-server on a free loopback port and a client for it, for one test.
struct ServerAndClient {
    let server: RunningKVServer
    let client: ConsulClient

    static func start(limits: KVLimits = .consul, server configuration: KVServer = KVServer(port: 0, logLevel: .critical), token: String? = nil) async throws -> ServerAndClient {
        let server = try await RunningKVServer.start(configuration)
        return ServerAndClient(server: server, client: ConsulClient(.init(address: server.address, token: token, limits: limits)))
    }

    /// A client of the same server with another token.
    func client(token: String?) -> ConsulClient {
        ConsulClient(.init(address: server.address, token: token))
    }

    /// A raw HTTP request, for APIs the client does not wrap (catalog registration, ACL management).
    func request(_ method: HTTPMethod, _ path: String, body: String? = nil, token: String? = nil) async throws -> (status: Int, body: String) {
        var request = HTTPClientRequest(url: server.address + path)
        request.method = method
        if let token { request.headers.add(name: "X-Consul-Token", value: token) }
        if let body { request.body = .bytes(ByteBuffer(string: body)) }
        let response = try await ConsulClient.sharedHTTPClient.execute(request, timeout: .seconds(30))
        let collected = try await response.body.collect(upTo: 16 << 20)
        return (Int(response.status.code), String(buffer: collected))
    }

    /// Decodes a JSON answer into plain Foundation values.
    func json(_ method: HTTPMethod, _ path: String, body: String? = nil, token: String? = nil) async throws -> Any {
        let (status, text) = try await request(method, path, body: body, token: token)
        guard status == 200 else { throw UnexpectedStatus(status: status, body: text) }
        return try JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])
    }

    func stop() async {
        await server.stop()
    }
}

struct UnexpectedStatus: Error, CustomStringConvertible {
    let status: Int
    let body: String
    var description: String { "HTTP \(status): \(body)" }
}

extension KVServer {
    /// A test server on a free port whose sessions may have TTLs of one second.
    static func quickSessions(aclBootstrapToken: String? = nil) -> KVServer {
        var limits = KVServerLimits()
        limits.minSessionTTL = .seconds(1)
        return KVServer(port: 0, aclBootstrapToken: aclBootstrapToken, limits: limits, logLevel: .critical)
    }
}
