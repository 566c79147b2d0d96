import Foundation

/// JSON with sorted keys and no insignificant whitespace, so equal values give equal bytes.
enum CanonicalJSON {
    static func encode(_ value: some Encodable) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Only plain strings and integers are encoded, which cannot fail.
        return Array((try? encoder.encode(value)) ?? Data())
    }

    static func decode<Value: Decodable>(_ type: Value.Type, from bytes: ArraySlice<UInt8>, what: String) throws(BundleError) -> Value {
        do {
            return try JSONDecoder().decode(type, from: Data(bytes))
        } catch let error as DecodingError {
            throw BundleError(.corrupt, "\(what) is not valid: \(describe(error))")
        } catch {
            throw BundleError(.corrupt, "\(what) is not valid JSON")
        }
    }

    private static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            let keys = context.codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue }
            return keys.isEmpty ? "" : " at \(keys.joined(separator: "."))"
        }
        switch error {
        case .dataCorrupted(let context): return "malformed JSON\(path(context))"
        case .keyNotFound(let key, let context): return "missing \(key.stringValue)\(path(context))"
        case .typeMismatch(_, let context): return "wrong type\(path(context))"
        case .valueNotFound(_, let context): return "missing value\(path(context))"
        @unknown default: return "unreadable"
        }
    }
}
