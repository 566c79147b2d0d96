import Foundation

/// Request bodies decoded as Consul (Go) does: field names match regardless of case, so
/// `{"Name": ...}` and `{"name": ...}` both work. Request types use lower-case coding keys.
enum RequestJSON {
    private struct LowercasedKey: CodingKey {
        let stringValue: String
        let intValue: Int?
        init(stringValue: String) {
            self.stringValue = stringValue.lowercased()
            intValue = nil
        }
        init(intValue: Int) {
            stringValue = String(intValue)
            self.intValue = intValue
        }
    }

    /// Decodes `body`; an empty body decodes as `{}`. Errors read like Consul's.
    static func decode<Value: Decodable>(_ type: Value.Type, from body: [UInt8]) -> Result<Value, RequestJSONError> {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .custom { path in
            let last = path.last!
            return last.intValue.map { LowercasedKey(intValue: $0) } ?? LowercasedKey(stringValue: last.stringValue)
        }
        let data = body.allSatisfy { $0 == 0x20 || $0 == 0x0a || $0 == 0x0d || $0 == 0x09 } ? Data("{}".utf8) : Data(body)
        do {
            return .success(try decoder.decode(type, from: data))
        } catch {
            return .failure(RequestJSONError(error))
        }
    }
}

struct RequestJSONError: Error, CustomStringConvertible {
    let description: String

    init(_ error: any Error) {
        guard let decoding = error as? DecodingError else {
            description = "unreadable"
            return
        }
        func path(_ context: DecodingError.Context) -> String {
            context.codingPath.map(\.stringValue).joined(separator: ".")
        }
        switch decoding {
        case .dataCorrupted(let context): description = context.codingPath.isEmpty ? "malformed JSON" : "invalid value at \(path(context))"
        case .keyNotFound(let key, _): description = "missing \(key.stringValue)"
        case .typeMismatch(_, let context): description = "wrong type at \(path(context))"
        case .valueNotFound(_, let context): description = "missing value at \(path(context))"
        @unknown default: description = "unreadable"
        }
    }
}
