import Foundation
import StructuredText
import Yams

/// Flattens JSON, YAML and .properties files into key paths and leaf values, as git2consul's
/// `expand_keys` does: object keys are percent-encoded like JavaScript's encodeURIComponent,
/// array elements get their index as a key, and a null leaf becomes an empty value.
enum StructuredLeaves {
    /// Leaves as (path below the file's key, value); an empty path is the file's key itself.
    static func leaves(of content: [UInt8], format: StructuredFormat) throws -> [(path: String, value: [UInt8])] {
        var result: [(String, [UInt8])] = []
        switch format {
        case .json:
            let value = try JSONDecoder().decode(JSONLeafValue.self, from: Data(content))
            collect(json: value, path: "", into: &result)
        case .yaml:
            let text = String(decoding: content, as: UTF8.self)
            if let node = try Yams.compose(yaml: text) { collect(yaml: node, path: "", into: &result) }
        case .properties:
            for (key, value) in PropertiesParser.parse(String(decoding: content, as: UTF8.self)) {
                result.append((encodeComponent(key), Array(value.utf8)))
            }
        }
        return result
    }

    private static func join(_ path: String, _ component: String) -> String {
        path.isEmpty ? component : path + "/" + component
    }

    private static func collect(json value: JSONLeafValue, path: String, into result: inout [(String, [UInt8])]) {
        switch value {
        case .object(let members):
            for (key, member) in members.sorted(by: { $0.key < $1.key }) {
                collect(json: member, path: join(path, encodeComponent(key)), into: &result)
            }
        case .array(let items):
            for (index, item) in items.enumerated() { collect(json: item, path: join(path, String(index)), into: &result) }
        case .scalar(let text):
            result.append((path, Array(text.utf8)))
        }
    }

    private static func collect(yaml node: Node, path: String, into result: inout [(String, [UInt8])]) {
        switch node {
        case .mapping(let mapping):
            for (key, value) in mapping {
                collect(yaml: value, path: join(path, encodeComponent(key.string ?? "")), into: &result)
            }
        case .sequence(let sequence):
            for (index, item) in sequence.enumerated() { collect(yaml: item, path: join(path, String(index)), into: &result) }
        case .scalar(let scalar):
            let isNull = scalar.style == .plain && ["", "~", "null", "Null", "NULL"].contains(scalar.string)
            result.append((path, isNull ? [] : Array(scalar.string.utf8)))
        case .alias:
            break
        }
    }

    /// JavaScript's encodeURIComponent: everything but `A-Z a-z 0-9 - _ . ! ~ * ' ( )` is %XX-escaped.
    static func encodeComponent(_ text: String) -> String {
        var encoded = ""
        for byte in text.utf8 {
            let scalar = Unicode.Scalar(byte)
            let unreserved = ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || ("0"..."9").contains(scalar)
                || "-_.!~*'()".unicodeScalars.contains(scalar)
            if byte < 0x80, unreserved {
                encoded.unicodeScalars.append(scalar)
            } else {
                encoded += String(format: "%%%02X", byte)
            }
        }
        return encoded
    }
}

/// A JSON value read with JSONDecoder, which keeps booleans and numbers apart.
enum JSONLeafValue: Decodable {
    case object([String: JSONLeafValue])
    case array([JSONLeafValue])
    /// The leaf as git2consul writes it: strings as they are, numbers and booleans as text, null empty.
    case scalar(String)

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .scalar("")
        } else if let value = try? container.decode(Bool.self) {
            self = .scalar(value ? "true" : "false")
        } else if let value = try? container.decode(String.self) {
            self = .scalar(value)
        } else if let value = try? container.decode(Int64.self) {
            self = .scalar(String(value))
        } else if let value = try? container.decode(Double.self) {
            self = .scalar(value == value.rounded() && abs(value) < 1e21 ? String(format: "%.0f", value) : String(value))
        } else if let value = try? container.decode([JSONLeafValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSONLeafValue].self))
        }
    }
}
