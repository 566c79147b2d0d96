import Foundation
import HTTPTypes
import Hummingbird
import KV
import Synchronization

/// Answers the subset of Consul's HTTP API that git2kv and common Consul clients use, with
/// Consul's status codes, headers and JSON shapes.
struct ConsulHTTPResponder: HTTPResponder {
    typealias Context = BasicRequestContext

    let store: ServerStore
    let limits: KVServerLimits
    let requests: RequestCounter

    func respond(to request: Request, context: Context) async throws -> Response {
        requests.increment()
        do throws(StorageError) {
            return try await route(request)
        } catch {
            // Consul answers a write its raft log cannot take with 500 and the reason.
            return ConsulResponse.text(.internalServerError, "write not made: \(error.message)")
        }
    }

    private func route(_ request: Request) async throws(StorageError) -> Response {
        let rawPath = request.uri.path
        if rawPath.contains("//") {
            // Consul's HTTP mux cleans paths: a doubled slash is redirected, never a key of its own.
            return ConsulResponse.redirect(to: Self.collapsingSlashes(rawPath) + (request.uri.query.map { "?" + $0 } ?? ""))
        }
        let path = rawPath.removingPercentEncoding ?? rawPath
        let query = QueryParameters(request)
        if let datacenter = query["dc"], !datacenter.isEmpty, datacenter != CatalogEndpoint.datacenter {
            return ConsulResponse.text(.internalServerError, "No path to datacenter")
        }
        if query.has("filter"), !path.hasPrefix("/v1/kv") {
            // Consul filters these listings with bexpr; answering unfiltered would hand a client
            // more than it asked for without saying so.
            return ConsulResponse.text(.badRequest, "Failed to create boolean expression evaluator: ?filter= is not supported by git2kv kv-server")
        }
        if query.has("stale"), query.has("consistent") {
            return ConsulResponse.text(.badRequest, "Cannot specify ?stale with ?consistent, conflicting semantics.")
        }
        let token = Self.token(of: request, query: query)
        guard let authorizer = await store.authorizer(for: token) else {
            return ConsulResponse.text(.forbidden, "ACL not found")
        }
        let call = ConsulCall(request: request, path: path, query: query, token: token, authorizer: authorizer, store: store, limits: limits)
        if let key = path.dropPrefix("/v1/kv/") ?? (path == "/v1/kv" ? "" : nil) {
            return try await KVEndpoint(call: call).respond(key: key)
        }
        if let rest = path.dropPrefix("/v1/session/") { return try await SessionEndpoint(call: call).respond(rest) }
        if let rest = path.dropPrefix("/v1/catalog/") { return try await CatalogEndpoint(call: call).respond(rest) }
        if let rest = path.dropPrefix("/v1/health/") { return await CatalogEndpoint(call: call).health(rest) }
        if let rest = path.dropPrefix("/v1/acl/") { return try await ACLEndpoint(call: call).respond(rest) }
        if path != "/v1/agent/metrics", let rest = path.dropPrefix("/v1/agent/") { return try await AgentEndpoint(call: call).respond(rest) }
        switch (request.method, path) {
        case (.put, "/v1/txn"):
            return try await TxnEndpoint(call: call).respond()
        case (.get, "/v1/status/leader"):
            return ConsulResponse.json("127.0.0.1:8300")
        case (.get, "/v1/status/peers"):
            return ConsulResponse.json(["127.0.0.1:8300"])
        case (.get, "/v1/agent/metrics"):
            return await AgentMetricsEndpoint(store: store, requests: requests).respond()
        default:
            return ConsulResponse.text(.notFound, "Not found: \(request.method) \(path)")
        }
    }

    /// The request's ACL token, in Consul's order: `?token=`, then X-Consul-Token, then an
    /// `Authorization` bearer token (the scheme in any case).
    private static func token(of request: Request, query: QueryParameters) -> String? {
        if let token = query["token"], !token.isEmpty { return token }
        if let header = request.headers[HTTPField.Name("X-Consul-Token")!], !header.isEmpty { return header }
        if let authorization = request.headers[.authorization] {
            let parts = authorization.split(separator: " ", omittingEmptySubsequences: true)
            if parts.count == 2, parts[0].lowercased() == "bearer" { return String(parts[1]) }
        }
        return nil
    }

    private static func collapsingSlashes(_ path: String) -> String {
        var result = ""
        for character in path where !(character == "/" && result.last == "/") { result.append(character) }
        return result
    }
}

/// One request with what every endpoint needs.
struct ConsulCall: Sendable {
    let request: Request
    let path: String
    let query: QueryParameters
    let token: String?
    let authorizer: Authorizer
    let store: ServerStore
    let limits: KVServerLimits

    var method: HTTPRequest.Method { request.method }

    func body(limit: Int) async -> Result<[UInt8], RequestBody.TooLarge> {
        await RequestBody.collect(request, limit: limit)
    }

    /// Reads and decodes a JSON body; a failure is the response to send.
    func decodeBody<Value: Decodable>(_ type: Value.Type, limit: Int = 256 * 1024) async -> Result<Value, ResponseError> {
        switch await body(limit: limit) {
        case .failure(let tooLarge): return .failure(ResponseError(ConsulResponse.tooLarge(tooLarge, limit: limit)))
        case .success(let bytes):
            return RequestJSON.decode(type, from: bytes).mapError {
                ResponseError(ConsulResponse.text(.badRequest, "Request decode failed: \($0)"))
            }
        }
    }

    func blocking(topic: WatchTopic, answer: () async -> (response: Response, index: UInt64)) async -> Response {
        await BlockingQuery(store: store, limits: limits).run(query, topic: topic, answer: answer)
    }

    func forbidden(_ resource: ACLRules.Resource, _ name: String, _ access: ACLRules.Access) -> Response {
        ConsulResponse.text(.forbidden, authorizer.denial(resource, name, access))
    }
}

extension String {
    func dropPrefix(_ prefix: String) -> String? {
        hasPrefix(prefix) ? String(dropFirst(prefix.count)) : nil
    }
}

/// Limits the server enforces, as Consul does.
public struct KVServerLimits: Sendable {
    public var maxValueSize = 512 * 1024
    public var maxTransactionOperations = 64
    public var maxTransactionBytes = 512 * 1024
    public var defaultWait: Duration = .seconds(300)
    public var maxWait: Duration = .seconds(600)
    /// Consul accepts session TTLs from 10s to 24h; tests may allow shorter ones.
    public var minSessionTTL: Duration = .seconds(10)
    public var maxSessionTTL: Duration = .seconds(86400)
    /// Log size after which the state is snapshotted and the log emptied, bounding restart time.
    public var snapshotAfterLogBytes = 64 << 20
    /// Zero-filled space the log is extended by at a time.
    public var logPreallocationBytes = 16 << 20
    /// Each log flush waits this long before its fsync, like a slow or overloaded disk (tests
    /// and `scripts/reliability`; zero in service).
    public var slowFlush: Duration = .zero

    public init() {}
}

/// Building responses with Consul's headers.
enum ConsulResponse {
    static func json(_ value: some Encodable, status: HTTPResponse.Status = .ok, index: UInt64? = nil, filtered: Bool = false) -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .withoutEscapingSlashes
        let body = (try? encoder.encode(value)) ?? Data("null".utf8)
        return bytes(Array(body), status: status, contentType: "application/json", index: index, filtered: filtered)
    }

    static func bytes(
        _ body: [UInt8], status: HTTPResponse.Status = .ok, contentType: String, index: UInt64? = nil, filtered: Bool = false
    ) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = contentType
        if let index {
            headers[HTTPField.Name("X-Consul-Index")!] = String(index)
            headers[HTTPField.Name("X-Consul-KnownLeader")!] = "true"
            headers[HTTPField.Name("X-Consul-LastContact")!] = "0"
        }
        if filtered { headers[HTTPField.Name("X-Consul-Results-Filtered-By-ACLs")!] = "true" }
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: body)))
    }

    static func text(_ status: HTTPResponse.Status, _ message: String, index: UInt64? = nil) -> Response {
        bytes(Array(message.utf8), status: status, contentType: "text/plain; charset=utf-8", index: index)
    }

    static func redirect(to location: String) -> Response {
        var response = text(.movedPermanently, "Moved Permanently: \(location)")
        response.headers[.location] = location
        return response
    }

    /// `?raw`: the value as Consul serves it, so a browser never interprets it.
    static func raw(_ body: [UInt8], index: UInt64) -> Response {
        var response = bytes(body, contentType: "text/plain", index: index)
        response.headers[HTTPField.Name("X-Content-Type-Options")!] = "nosniff"
        response.headers[.contentSecurityPolicy] = "sandbox"
        return response
    }

    /// Consul's answer to query flags that cannot go together.
    static func conflictingFlags(_ request: Request) -> Response {
        text(.badRequest, "Conflicting flags: \(request.uri.query ?? "")")
    }

    static func tooLarge(_ tooLarge: RequestBody.TooLarge, limit: Int) -> Response {
        text(.contentTooLarge, "Request body(\(tooLarge.size) bytes) too large, max size: \(limit) bytes")
    }
}

/// Query parameters as Consul reads them: flags without values count as present.
struct QueryParameters: Sendable {
    private let values: [String: String]

    init(_ request: Request) {
        var values: [String: String] = [:]
        for (name, value) in request.uri.queryParameters {
            values[String(name)] = String(value)
        }
        self.values = values
    }

    func has(_ name: String) -> Bool { values[name] != nil }

    subscript(_ name: String) -> String? { values[name] }

    /// A numeric parameter; nil when absent, `.failure` when present but not a number.
    func unsigned(_ name: String) -> Result<UInt64?, QueryParameterError> {
        guard let text = values[name] else { return .success(nil) }
        guard let number = UInt64(text) else { return .failure(QueryParameterError(name: name, value: text)) }
        return .success(number)
    }
}

struct QueryParameterError: Error {
    let name: String
    let value: String
}

/// Requests answered, for tests and benchmarks that check a client's request rate.
public final class RequestCounter: Sendable {
    private let count = Mutex(0)

    public init() {}

    func increment() { count.withLock { $0 += 1 } }

    public var value: Int { count.withLock { $0 } }
}
