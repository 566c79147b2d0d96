import Foundation
import Yams

/// Parses a bundle file into plain values a template can walk (`[String: Any]`, `[Any]`,
/// strings, numbers, booleans), by its extension: `.json`, `.yaml`/`.yml`, `.properties`.
enum StructuredData {
    /// The parsed value, nil for other extensions; throws a reason when the content does not parse.
    static func parse(path: String, text: String) throws -> Any? {
        let lowered = path.lowercased()
        if lowered.hasSuffix(".json") { return try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8)).plain }
        if lowered.hasSuffix(".yaml") || lowered.hasSuffix(".yml") { return plain(try Yams.load(yaml: text)) }
        if lowered.hasSuffix(".properties") { return properties(text) }
        return nil
    }

    private static func plain(_ value: Any?) -> Any? {
        switch value {
        case let mapping as [AnyHashable: Any]:
            var result: [String: Any] = [:]
            for (key, child) in mapping { result[String(describing: key.base)] = plain(child) ?? "" }
            return result
        case let sequence as [Any]:
            return sequence.map { plain($0) ?? "" }
        default:
            return value
        }
    }

    /// `key=value` or `key: value` lines; `#` and `!` start comments. Dotted keys nest
    /// (`db.host` is `data.db.host`) unless a shorter key already holds a value there.
    private static func properties(_ text: String) -> [String: Any] {
        var root: [String: Any] = [:]
        for rawLine in text.split(whereSeparator: \.isNewline) {
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            guard !line.isEmpty, !line.hasPrefix("#"), !line.hasPrefix("!") else { continue }
            let separator = line.firstIndex { $0 == "=" || $0 == ":" }
            let key = separator.map { line[..<$0] }.map(String.init) ?? line
            let value = separator.map { String(line[line.index(after: $0)...]) } ?? ""
            insert(value.trimmingCharacters(in: .whitespaces), at: key.trimmingCharacters(in: .whitespaces).split(separator: ".").map(String.init), into: &root)
        }
        return root
    }

    private static func insert(_ value: String, at path: [String], into dictionary: inout [String: Any]) {
        guard let first = path.first else { return }
        if path.count == 1 {
            if dictionary[first] == nil { dictionary[first] = value }
            return
        }
        var child: [String: Any]
        switch dictionary[first] {
        case nil: child = [:]
        case let existing as [String: Any]: child = existing
        default: return
        }
        insert(value, at: Array(path.dropFirst()), into: &child)
        dictionary[first] = child
    }
}

/// JSON decoded with its types kept apart (a JSON `true` stays a Bool, `1` an Int).
private enum JSONValue: Decodable {
    case null, bool(Bool), int(Int), double(Double), string(String), array([JSONValue]), object([String: JSONValue])

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() { self = .null }
        else if let value = try? container.decode(Bool.self) { self = .bool(value) }
        else if let value = try? container.decode(Int.self) { self = .int(value) }
        else if let value = try? container.decode(Double.self) { self = .double(value) }
        else if let value = try? container.decode(String.self) { self = .string(value) }
        else if let value = try? container.decode([JSONValue].self) { self = .array(value) }
        else { self = .object(try container.decode([String: JSONValue].self)) }
    }

    var plain: Any {
        switch self {
        case .null: ""
        case .bool(let value): value
        case .int(let value): value
        case .double(let value): value
        case .string(let value): value
        case .array(let values): values.map(\.plain)
        case .object(let values): values.mapValues(\.plain)
        }
    }
}
