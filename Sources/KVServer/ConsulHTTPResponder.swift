import Foundation
import HTTPTypes
import Hummingbird
import KV

/// Answers the subset of Consul's HTTP API that git2kv and common Consul clients use, with
/// Consul's status codes, headers and JSON shapes.
struct ConsulHTTPResponder: HTTPResponder {
    typealias Context = BasicRequestContext

    let store: KVStateStore
    let limits: KVServerLimits

    func respond(to request: Request, context: Context) async throws -> Response {
        let rawPath = request.uri.path
        let path = rawPath.removingPercentEncoding ?? rawPath
        if path.hasPrefix("/v1/kv/") || path == "/v1/kv" {
            let key = String(path.dropFirst(min(path.count, "/v1/kv/".count)))
            return await KVEndpoint(store: store, limits: limits).respond(to: request, key: key)
        }
        switch (request.method, path) {
        case (.put, "/v1/txn"):
            return await TxnEndpoint(store: store, limits: limits).respond(to: request)
        case (.get, "/v1/status/leader"):
            return ConsulResponse.json("127.0.0.1:8300")
        case (.get, "/v1/status/peers"):
            return ConsulResponse.json(["127.0.0.1:8300"])
        default:
            return ConsulResponse.text(.notFound, "Not found: \(request.method) \(path)")
        }
    }
}

/// Limits the server enforces, as Consul does.
public struct KVServerLimits: Sendable {
    public var maxValueSize = 512 * 1024
    public var maxTransactionOperations = 64
    public var maxTransactionBytes = 512 * 1024
    public var defaultWait: Duration = .seconds(300)
    public var maxWait: Duration = .seconds(600)

    public init() {}
}

/// Building responses with Consul's headers.
enum ConsulResponse {
    static func json(_ value: some Encodable, status: HTTPResponse.Status = .ok, index: UInt64? = nil) -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .withoutEscapingSlashes
        let body = (try? encoder.encode(value)) ?? Data("null".utf8)
        return bytes(Array(body), status: status, contentType: "application/json", index: index)
    }

    static func bytes(_ body: [UInt8], status: HTTPResponse.Status = .ok, contentType: String, index: UInt64? = nil) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = contentType
        if let index {
            headers[HTTPField.Name("X-Consul-Index")!] = String(index)
            headers[HTTPField.Name("X-Consul-KnownLeader")!] = "true"
            headers[HTTPField.Name("X-Consul-LastContact")!] = "0"
        }
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: body)))
    }

    static func text(_ status: HTTPResponse.Status, _ message: String, index: UInt64? = nil) -> Response {
        bytes(Array(message.utf8), status: status, contentType: "text/plain; charset=utf-8", index: index)
    }
}

/// Query parameters as Consul reads them: flags without values count as present.
struct QueryParameters {
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
