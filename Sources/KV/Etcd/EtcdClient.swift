public import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import Synchronization

/// An etcd v3 client over etcd's HTTP JSON gateway (`/v3/...`), the same HTTP stack as the
/// Consul client: no generated gRPC code, and watches are streamed HTTP responses.
///
/// With several endpoints (members of one cluster) a request that cannot reach a member, or
/// that a member without a leader refuses, is tried on the next one; the member that answered
/// is used first from then on. The password and the auth token never appear in errors.
public final class EtcdClient: KVStore, Sendable {
    public struct Configuration: Sendable {
        /// Base URLs of the cluster's members, for example `http://127.0.0.1:2379`.
        public var endpoints: [String]
        /// etcd user and password; nil when the cluster has auth disabled.
        public var credentials: Credentials?
        /// Timeout of a request that does not block.
        public var requestTimeout: Duration
        public var limits: KVLimits

        public init(endpoints: [String], credentials: Credentials? = nil, requestTimeout: Duration = .seconds(30), limits: KVLimits = .etcd) {
            self.endpoints = endpoints
            self.credentials = credentials
            self.requestTimeout = requestTimeout
            self.limits = limits
        }
    }

    /// An etcd user; the secret is read from `token_file`/`token_env` as `USER:PASSWORD`, the
    /// form `etcdctl --user` takes. Printing it shows the user only.
    public struct Credentials: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible {
        public var user: String
        public var password: String

        public init(user: String, password: String) {
            self.user = user
            self.password = password
        }

        public var description: String { "\(user):<password>" }
        public var debugDescription: String { description }

        /// Parses `USER:PASSWORD`; the error names `origin` (where the secret was read from)
        /// and never repeats the secret.
        public static func parse(_ secret: String, from origin: String? = nil) throws(KVError) -> Credentials {
            guard let colon = secret.firstIndex(of: ":"), colon != secret.startIndex else {
                throw KVError(
                    kind: .tokenUnavailable, operation: "read etcd credentials" + (origin.map { " from \($0)" } ?? ""),
                    message: "an etcd token must be USER:PASSWORD (as etcdctl --user takes it)")
            }
            return Credentials(user: String(secret[..<colon]), password: String(secret[secret.index(after: colon)...]))
        }
    }

    public let configuration: Configuration
    let http: HTTPClient
    private let endpoints: [String]
    private let preferredEndpoint = Mutex(0)
    private let authToken = Mutex<String?>(nil)

    public var limits: KVLimits { configuration.limits }

    public init(_ configuration: Configuration, httpClient: HTTPClient = ConsulClient.sharedHTTPClient) {
        self.configuration = configuration
        endpoints = configuration.endpoints.map { endpoint in
            var base = endpoint
            while base.hasSuffix("/") { base.removeLast() }
            return base
        }
        http = httpClient
    }

    /// The endpoints in the order to try them: the last one that answered first.
    var endpointOrder: [String] {
        let first = preferredEndpoint.withLock { $0 } % max(endpoints.count, 1)
        return Array(endpoints[first...] + endpoints[..<first])
    }

    private func prefer(_ endpoint: String) {
        guard let position = endpoints.firstIndex(of: endpoint) else { return }
        preferredEndpoint.withLock { $0 = position }
    }

    // MARK: Requests

    /// POSTs `body` to `path` and decodes the answer.
    func call<Response: Decodable>(
        _ path: String, _ body: some Encodable, as type: Response.Type, operation: String, timeout: Duration? = nil
    ) async throws(KVError) -> Response {
        let encoded = try encode(body, operation: operation)
        let reply = try await send(path, encoded, operation: operation, timeout: timeout)
        return try decode(type, reply.body, operation: operation)
    }

    struct Reply {
        let status: Int
        let body: [UInt8]
    }

    /// POSTs `body` to `path`; any status but 200 is thrown as a KVError.
    func send(_ path: String, _ body: [UInt8], operation: String, timeout: Duration? = nil) async throws(KVError) -> Reply {
        try await onMembers(operation: operation) { endpoint throws(KVError) in
            let reply = try await post(endpoint + path, body, timeout: timeout ?? configuration.requestTimeout, operation: operation)
            guard reply.status == 200 else { throw failure(reply, operation: operation) }
            return reply
        }
    }

    /// Opens a request whose answer is read as a stream (a watch), on the member returned with it.
    func openStream(_ path: String, _ body: [UInt8], operation: String) async throws(KVError) -> (endpoint: String, response: HTTPClientResponse) {
        try await onMembers(operation: operation) { endpoint throws(KVError) in
            let response = try await execute(endpoint + path, body, timeout: configuration.requestTimeout, operation: operation)
            guard response.status == .ok else {
                let collected = try await collect(response, operation: operation, endpoint: endpoint)
                throw failure(Reply(status: Int(response.status.code), body: collected), operation: operation)
            }
            return (endpoint, response)
        }
    }

    /// Runs `request` on each member in turn until one answers, moving on only after failures
    /// that say nothing was done (unreachable, no leader) or that are safe to repeat because
    /// every git2kv write is guarded by a compare.
    private func onMembers<Result>(
        operation: String, _ request: (String) async throws(KVError) -> Result
    ) async throws(KVError) -> Result {
        var lastError: KVError?
        for endpoint in endpointOrder {
            do throws(KVError) {
                let result = try await loggedIn(at: endpoint, request)
                prefer(endpoint)
                return result
            } catch {
                guard [.connectionFailed, .timeout, .noLeader].contains(error.kind) else { throw error }
                lastError = error
            }
        }
        throw lastError ?? KVError(kind: .invalidRequest, operation: operation, message: "no etcd endpoints configured")
    }

    /// Runs `request` with an auth token when the client has credentials: logs in first when
    /// it has no token, and once more when etcd says the token expired (HTTP 401).
    private func loggedIn<Result>(at endpoint: String, _ request: (String) async throws(KVError) -> Result) async throws(KVError) -> Result {
        guard configuration.credentials != nil else { return try await request(endpoint) }
        if authToken.withLock({ $0 }) == nil { try await logIn(at: endpoint) }
        do {
            return try await request(endpoint)
        } catch where error.status == 401 {
            try await logIn(at: endpoint)
            return try await request(endpoint)
        }
    }

    private func post(_ url: String, _ body: [UInt8], timeout: Duration, operation: String) async throws(KVError) -> Reply {
        let response = try await execute(url, body, timeout: timeout, operation: operation)
        return Reply(status: Int(response.status.code), body: try await collect(response, operation: operation, endpoint: url))
    }

    private func execute(_ url: String, _ body: [UInt8], timeout: Duration, operation: String) async throws(KVError) -> HTTPClientResponse {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        if let token = authToken.withLock({ $0 }) { request.headers.add(name: "Authorization", value: token) }
        request.body = .bytes(ByteBuffer(bytes: body))
        do {
            return try await http.execute(request, timeout: .nanoseconds(Int64(timeout.inSeconds * 1e9)))
        } catch {
            throw Self.transportError(error, operation: operation, url: url)
        }
    }

    private func collect(_ response: HTTPClientResponse, operation: String, endpoint: String) async throws(KVError) -> [UInt8] {
        do {
            return Array(buffer: try await response.body.collect(upTo: 256 << 20))
        } catch {
            throw Self.transportError(error, operation: operation, url: endpoint)
        }
    }

    static func transportError(_ error: any Error, operation: String, url: String) -> KVError {
        KVError.transport(error, operation: operation, address: "etcd at \(origin(of: url))")
    }

    private static func origin(of url: String) -> String {
        guard let components = URLComponents(string: url), let scheme = components.scheme, let host = components.host else { return url }
        return "\(scheme)://\(host)" + (components.port.map { ":\($0)" } ?? "")
    }

    /// Exchanges the user and password for a token (`/v3/auth/authenticate`).
    private func logIn(at endpoint: String) async throws(KVError) {
        guard let credentials = configuration.credentials else { return }
        let operation = "log in to etcd as \(credentials.user)"
        authToken.withLock { $0 = nil }
        let body = try encode(EtcdWire.AuthenticateRequest(name: credentials.user, password: credentials.password), operation: operation)
        let reply = try await post(endpoint + "/v3/auth/authenticate", body, timeout: configuration.requestTimeout, operation: operation)
        guard reply.status == 200 else {
            let error = failure(reply, operation: operation)
            if error.kind == .badRequest {
                throw KVError(kind: .permissionDenied, operation: operation, message: "etcd refused the user or password", status: error.status)
            }
            throw error
        }
        let token = try decode(EtcdWire.AuthenticateResponse.self, reply.body, operation: operation).token
        authToken.withLock { $0 = token }
    }

    /// Maps the gateway's error (an HTTP status and a gRPC code with etcd's message) to a KVError.
    func failure(_ reply: Reply, operation: String) -> KVError {
        let gateway = try? JSONDecoder().decode(EtcdWire.GatewayError.self, from: Data(reply.body))
        let message = gateway?.text ?? String(decoding: reply.body.prefix(300), as: UTF8.self)
        return KVError(
            kind: Self.kind(code: gateway?.code, status: reply.status, message: message), operation: operation,
            message: message.isEmpty ? "unexpected answer" : message, status: reply.status)
    }

    static func kind(code: Int?, status: Int?, message: String) -> KVError.Kind {
        let lowered = message.lowercased()
        switch (code, status) {
        case (7, _), (_, 403), (16, _), (_, 401): return .permissionDenied
        case _ where lowered.contains("request is too large"): return .tooLarge
        case _ where lowered.contains("too many operations"): return .tooManyOperations
        case _ where lowered.contains("no leader") || lowered.contains("leader changed"): return .noLeader
        case _ where lowered.contains("timed out"): return .timeout
        case (14, _), (_, 503): return .noLeader
        case (4, _), (_, 504): return .timeout
        case (3, _), (_, 400): return .badRequest
        default: return .serverError
        }
    }

    func encode(_ body: some Encodable, operation: String) throws(KVError) -> [UInt8] {
        do {
            return Array(try JSONEncoder().encode(body))
        } catch {
            throw KVError(kind: .invalidRequest, operation: operation, message: "cannot encode: \(error)")
        }
    }

    func decode<Value: Decodable>(_ type: Value.Type, _ body: [UInt8], operation: String) throws(KVError) -> Value {
        do {
            return try JSONDecoder().decode(type, from: Data(body))
        } catch {
            throw KVError(kind: .invalidResponse, operation: operation, message: "cannot parse etcd's answer: \(error)")
        }
    }
}

extension KVLimits {
    /// etcd 3.4's defaults: requests up to 1.5 MiB (values are counted as raw bytes) and 128
    /// operations per transaction; values are kept to 1 MiB so one always fits with its key.
    public static let etcd = KVLimits(maxValueSize: 1024 * 1024, maxTransactionOperations: 128, maxTransactionBytes: 1536 * 1024)
}

