import Foundation

/// JSON shapes of etcd v3's HTTP gateway (grpc-gateway): keys and values are base64, 64-bit
/// integers are strings, and fields at their zero value are left out of answers.
enum EtcdWire {
    /// A 64-bit integer as the gateway writes it (a string); a plain number is read too.
    struct Integer: Codable, Sendable, Hashable {
        var value: Int64

        init(_ value: Int64) { self.value = value }

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let text = try? container.decode(String.self), let number = Int64(text) {
                value = number
            } else {
                value = try container.decode(Int64.self)
            }
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            try container.encode(String(value))
        }
    }

    /// Bytes as base64.
    struct Bytes: Codable, Sendable, Hashable {
        var bytes: [UInt8]

        init(_ bytes: [UInt8]) { self.bytes = bytes }
        init(_ text: String) { self.bytes = Array(text.utf8) }

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            let text = try container.decode(String.self)
            guard let data = Data(base64Encoded: text) else {
                throw DecodingError.dataCorruptedError(in: container, debugDescription: "not base64")
            }
            bytes = Array(data)
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            try container.encode(Data(bytes).base64EncodedString())
        }
    }

    struct Header: Decodable, Sendable {
        var revision: Integer?
    }

    struct KeyValue: Decodable, Sendable {
        var key: Bytes
        var value: Bytes?
        var createRevision: Integer?
        var modRevision: Integer?
        var version: Integer?
        var lease: Integer?

        enum CodingKeys: String, CodingKey {
            case key, value, version, lease, createRevision = "create_revision", modRevision = "mod_revision"
        }
    }

    // MARK: KV

    struct RangeRequest: Encodable, Sendable {
        var key: Bytes
        var rangeEnd: Bytes?
        var limit: Integer?
        var revision: Integer?
        var serializable: Bool?
        var keysOnly: Bool?

        enum CodingKeys: String, CodingKey {
            case key, limit, revision, serializable, rangeEnd = "range_end", keysOnly = "keys_only"
        }
    }

    struct RangeResponse: Decodable, Sendable {
        var header: Header?
        var kvs: [KeyValue]?
        var more: Bool?
    }

    struct PutRequest: Encodable, Sendable {
        var key: Bytes
        var value: Bytes
        var lease: Integer?
    }

    struct DeleteRangeRequest: Encodable, Sendable {
        var key: Bytes
        var rangeEnd: Bytes?

        enum CodingKeys: String, CodingKey { case key, rangeEnd = "range_end" }
    }

    struct DeleteRangeResponse: Decodable, Sendable {
        var header: Header?
        var deleted: Integer?
    }

    struct Compare: Encodable, Sendable {
        enum Target: String, Encodable, Sendable { case version = "VERSION", mod = "MOD", lease = "LEASE" }

        var key: Bytes
        var target: Target
        var result = "EQUAL"
        var version: Integer?
        var modRevision: Integer?
        var lease: Integer?

        enum CodingKeys: String, CodingKey { case key, target, result, version, lease, modRevision = "mod_revision" }
    }

    struct RequestOp: Encodable, Sendable {
        var range: RangeRequest?
        var put: PutRequest?
        var deleteRange: DeleteRangeRequest?

        enum CodingKeys: String, CodingKey { case range = "request_range", put = "request_put", deleteRange = "request_delete_range" }
    }

    struct TxnRequest: Encodable, Sendable {
        var compare: [Compare]
        var success: [RequestOp]
        var failure: [RequestOp]
    }

    struct ResponseOp: Decodable, Sendable {
        var range: RangeResponse?

        enum CodingKeys: String, CodingKey { case range = "response_range" }
    }

    struct TxnResponse: Decodable, Sendable {
        var header: Header?
        var succeeded: Bool?
        var responses: [ResponseOp]?
    }

    // MARK: Watch

    struct WatchRequest: Encodable, Sendable {
        struct Create: Encodable, Sendable {
            var key: Bytes
            var rangeEnd: Bytes?
            var startRevision: Integer
            var progressNotify = true

            enum CodingKeys: String, CodingKey {
                case key, rangeEnd = "range_end", startRevision = "start_revision", progressNotify = "progress_notify"
            }
        }

        var create: Create

        enum CodingKeys: String, CodingKey { case create = "create_request" }
    }

    /// One line of a watch stream: a response, or the error that ended the stream.
    struct WatchMessage: Decodable, Sendable {
        var result: WatchResponse?
        var error: GatewayError?
    }

    struct WatchResponse: Decodable, Sendable {
        var header: Header?
        var created: Bool?
        var canceled: Bool?
        var compactRevision: Integer?
        var cancelReason: String?
        var events: [Event]?

        enum CodingKeys: String, CodingKey {
            case header, created, canceled, events, compactRevision = "compact_revision", cancelReason = "cancel_reason"
        }
    }

    struct Event: Decodable, Sendable {
        /// "DELETE", or absent for a put (the gateway leaves out zero values).
        var type: String?
        var kv: KeyValue?

        var isDelete: Bool { type == "DELETE" }
    }

    // MARK: Leases and auth

    struct LeaseGrantRequest: Encodable, Sendable {
        var ttl: Integer

        enum CodingKeys: String, CodingKey { case ttl = "TTL" }
    }

    struct LeaseGrantResponse: Decodable, Sendable {
        var id: Integer?
        var ttl: Integer?
        var error: String?

        enum CodingKeys: String, CodingKey { case id = "ID", ttl = "TTL", error }
    }

    struct LeaseID: Encodable, Sendable {
        var id: Integer

        enum CodingKeys: String, CodingKey { case id = "ID" }
    }

    /// `/v3/lease/keepalive` answers like a stream: one `result` line.
    struct LeaseKeepAliveMessage: Decodable, Sendable {
        struct Result: Decodable, Sendable {
            var ttl: Integer?

            enum CodingKeys: String, CodingKey { case ttl = "TTL" }
        }

        var result: Result?
        var error: GatewayError?
    }

    struct AuthenticateRequest: Encodable, Sendable {
        var name: String
        var password: String
    }

    struct AuthenticateResponse: Decodable, Sendable {
        var token: String
    }

    struct Empty: Codable, Sendable {}

    /// The gateway's error: the gRPC status code and etcd's message (`code` in answers,
    /// `grpc_code` inside a stream).
    struct GatewayError: Decodable, Sendable {
        var code: Int?
        var text: String

        enum CodingKeys: String, CodingKey { case code, grpcCode = "grpc_code", message, error }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            code = try container.decodeIfPresent(Int.self, forKey: .code) ?? container.decodeIfPresent(Int.self, forKey: .grpcCode)
            let message = try container.decodeIfPresent(String.self, forKey: .message)
            text = message ?? (try? container.decodeIfPresent(String.self, forKey: .error)) ?? ""
        }
    }

    /// The end of the range holding every key that starts with `prefix` (etcd's prefix rule:
    /// the prefix with its last byte below 0xff incremented; "\0" means "to the end").
    static func prefixEnd(_ prefix: [UInt8]) -> [UInt8] {
        var end = prefix
        while let last = end.last {
            if last < 0xff {
                end[end.count - 1] = last + 1
                return end
            }
            end.removeLast()
        }
        return [0]
    }
}
