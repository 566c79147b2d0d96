public import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// A Consul HTTP API client (also speaks to `git2kv kv-server`). The token is sent as
/// X-Consul-Token and never appears in errors or descriptions.
public final class ConsulClient: KVStore, Sendable {
    public struct Configuration: Sendable {
        /// Base URL, for example `http://127.0.0.1:8500`.
        public var address: String
        public var token: String?
        public var datacenter: String?
        /// Timeout of a request that does not block.
        public var requestTimeout: Duration
        public var limits: KVLimits

        public init(
            address: String, token: String? = nil, datacenter: String? = nil, requestTimeout: Duration = .seconds(30),
            limits: KVLimits = .consul
        ) {
            self.address = address
            self.token = token
            self.datacenter = datacenter
            self.requestTimeout = requestTimeout
            self.limits = limits
        }
    }

    public let configuration: Configuration
    private let http: HTTPClient
    private let baseURL: String

    /// One HTTP client for the whole process, never shut down (like `HTTPClient.shared`), with a
    /// connection pool large enough for one blocking query per watched key.
    public static let sharedHTTPClient = HTTPClient(eventLoopGroupProvider: .singleton, configuration: sharedConfiguration)

    static var sharedConfiguration: HTTPClient.Configuration {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = 1024
        configuration.timeout.connect = .seconds(10)
        // Fail at once when nothing listens: callers retry with their own backoff and jitter.
        configuration.connectionPool.retryConnectionEstablishment = false
        return configuration
    }

    public var limits: KVLimits { configuration.limits }

    /// Uses `httpClient` when given (its owner shuts it down, or it comes from
    /// `httpClient(tls:)`), else the process-wide client.
    public init(_ configuration: Configuration, httpClient: HTTPClient = ConsulClient.sharedHTTPClient) {
        self.configuration = configuration
        var base = configuration.address
        while base.hasSuffix("/") { base.removeLast() }
        baseURL = base
        http = httpClient
    }

    // MARK: Requests

    struct Reply {
        let status: Int
        let headers: HTTPHeaders
        let body: [UInt8]

        var index: UInt64 { headers.first(name: "X-Consul-Index").flatMap { UInt64($0) } ?? 0 }
        var knownLeader: Bool { headers.first(name: "X-Consul-KnownLeader") != "false" }
        var lastContact: UInt64 { headers.first(name: "X-Consul-LastContact").flatMap { UInt64($0) } ?? 0 }
        var text: String { String(decoding: body, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) }
    }

    func send(
        _ method: HTTPMethod, path: String, query: [(String, String?)] = [], body: [UInt8]? = nil,
        timeout: Duration? = nil, operation: String
    ) async throws(KVError) -> Reply {
        var items = query
        if let datacenter = configuration.datacenter { items.append(("dc", datacenter)) }
        var url = baseURL + path
        if !items.isEmpty {
            url += "?" + items.map { name, value in
                value.map { "\(name)=\(Self.encodeQueryValue($0))" } ?? name
            }.joined(separator: "&")
        }
        var request = HTTPClientRequest(url: url)
        request.method = method
        if let token = configuration.token { request.headers.add(name: "X-Consul-Token", value: token) }
        if let body { request.body = .bytes(ByteBuffer(bytes: body)) }
        let limit = timeout ?? configuration.requestTimeout
        do {
            let response = try await http.execute(request, timeout: .nanoseconds(Int64(limit.components.seconds) * 1_000_000_000 + limit.components.attoseconds / 1_000_000_000))
            let collected = try await response.body.collect(upTo: 256 << 20)
            return Reply(status: Int(response.status.code), headers: response.headers, body: Array(buffer: collected))
        } catch {
            throw KVError.transport(error, operation: operation, address: baseURL)
        }
    }

    /// Maps a non-success status to an error that names the operation.
    func failure(_ reply: Reply, operation: String) -> KVError {
        switch reply.status {
        case 403:
            return KVError(kind: .permissionDenied, operation: operation, message: "permission denied: \(reply.text)", status: 403)
        case 413:
            return KVError(kind: .tooLarge, operation: operation, message: reply.text, status: 413)
        case 400:
            return KVError(kind: .badRequest, operation: operation, message: reply.text, status: 400)
        case 500 where reply.text.lowercased().contains("no cluster leader"):
            return KVError(kind: .noLeader, operation: operation, message: "the cluster has no leader", status: 500)
        default:
            return KVError(kind: .serverError, operation: operation, message: reply.text.isEmpty ? "unexpected answer" : reply.text, status: reply.status)
        }
    }

    /// Keys go into the path with each segment percent-encoded; `/` stays a separator.
    static func keyPath(_ key: String) -> String {
        var allowed = CharacterSet.urlPathAllowed
        allowed.remove(charactersIn: "?#%;")
        return key.split(separator: "/", omittingEmptySubsequences: false)
            .map { $0.addingPercentEncoding(withAllowedCharacters: allowed) ?? String($0) }
            .joined(separator: "/")
    }

    private static func encodeQueryValue(_ value: String) -> String {
        var allowed = CharacterSet.urlQueryAllowed
        allowed.remove(charactersIn: "&=+?#")
        return value.addingPercentEncoding(withAllowedCharacters: allowed) ?? value
    }

    func readQuery(_ options: KVReadOptions) -> [(String, String?)] {
        var query: [(String, String?)] = []
        switch options.consistency {
        case .default: break
        case .consistent: query.append(("consistent", nil))
        case .stale: query.append(("stale", nil))
        }
        // An index of 0 would return at once: never send it as a wait index.
        if let index = options.waitIndex, index > 0 {
            query.append(("index", String(index)))
            if let wait = options.waitTime { query.append(("wait", ConsulWire.formatDuration(wait))) }
        }
        return query
    }

    /// A blocking read may take the wait time plus Consul's jitter (wait/16) before answering.
    func readTimeout(_ options: KVReadOptions) -> Duration {
        guard let index = options.waitIndex, index > 0 else { return configuration.requestTimeout }
        let wait = options.waitTime ?? .seconds(300)
        return wait + wait / 16 + configuration.requestTimeout
    }
}
