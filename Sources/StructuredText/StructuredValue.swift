import BundleFormat

/// A parsed JSON, YAML or .properties file, every scalar kept as written in the file (`1.10`,
/// `0644`, `yes`), with its type beside it.
public indirect enum StructuredValue: Sendable, Equatable {
    case scalar(StructuredScalar)
    case list([StructuredValue])
    /// Members in file order, each name once (a repeated name keeps its last value). A
    /// .properties key that is both a value and a prefix of others (`c=4`, `c.d=3`) has both.
    case object([StructuredMember], value: StructuredScalar?)

    public static func object(_ members: [StructuredMember]) -> StructuredValue { .object(members, value: nil) }

    /// The value as compact JSON, scalars by their type (`yes` is `true`, `0644` in YAML 1.1 is `420`).
    public var json: String {
        var out = ""
        writeJSON(into: &out)
        return out
    }

    private func writeJSON(into out: inout String) {
        switch self {
        case .scalar(let scalar):
            out += scalar.json
        case .list(let items):
            out += "["
            for (position, item) in items.enumerated() {
                if position > 0 { out += "," }
                item.writeJSON(into: &out)
            }
            out += "]"
        case .object(let members, _):
            out += "{"
            for (position, member) in members.enumerated() {
                if position > 0 { out += "," }
                out += JSONString.quoted(member.name) + ":"
                member.value.writeJSON(into: &out)
            }
            out += "}"
        }
    }
}

public struct StructuredMember: Sendable, Equatable {
    public var name: String
    public var value: StructuredValue

    public init(name: String, value: StructuredValue) {
        self.name = name
        self.value = value
    }
}

/// One scalar: its text as written (a quoted string's content) and what type it resolves to.
public struct StructuredScalar: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        case string, integer, float, null
        case boolean(Bool)
    }

    public var text: String
    public var kind: Kind
    /// The typed value as JSON.
    public var json: String

    public init(text: String, kind: Kind, json: String? = nil) {
        self.text = text
        self.kind = kind
        self.json = json ?? Self.defaultJSON(text: text, kind: kind)
    }

    public static func string(_ text: String) -> StructuredScalar { StructuredScalar(text: text, kind: .string) }

    /// False for `false` and null, as a section (`{{#x}}`) reads it.
    public var isTruthy: Bool {
        switch kind {
        case .null: false
        case .boolean(let value): value
        case .string, .integer, .float: true
        }
    }

    private static func defaultJSON(text: String, kind: Kind) -> String {
        switch kind {
        case .string: JSONString.quoted(text)
        case .null: "null"
        case .boolean(let value): value ? "true" : "false"
        case .integer, .float: JSONText.isNumber(text) ? text : JSONString.quoted(text)
        }
    }
}

enum JSONText {
    /// The line where brackets outside strings first nest deeper than `limit`, or nil.
    static func lineBeyondNesting(_ bytes: [UInt8], limit: Int) -> Int? {
        var depth = 0
        var line = 1
        var inString = false
        var escaped = false
        for byte in bytes {
            if byte == UInt8(ascii: "\n") { line += 1 }
            if inString {
                if escaped { escaped = false } else if byte == UInt8(ascii: "\\") { escaped = true } else if byte == UInt8(ascii: "\"") { inString = false }
                continue
            }
            switch byte {
            case UInt8(ascii: "\""): inString = true
            case UInt8(ascii: "["), UInt8(ascii: "{"):
                depth += 1
                if depth > limit { return line }
            case UInt8(ascii: "]"), UInt8(ascii: "}"): depth -= 1
            default: break
            }
        }
        return nil
    }

    /// JSON's number grammar: `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`.
    static func isNumber(_ text: String) -> Bool {
        var bytes = Array(text.utf8)[...]
        func digits() -> Int {
            let count = bytes.prefix { $0 >= 0x30 && $0 <= 0x39 }.count
            bytes = bytes.dropFirst(count)
            return count
        }
        if bytes.first == UInt8(ascii: "-") { bytes = bytes.dropFirst() }
        if bytes.first == UInt8(ascii: "0") {
            bytes = bytes.dropFirst()
        } else if digits() == 0 {
            return false
        }
        if bytes.first == UInt8(ascii: ".") {
            bytes = bytes.dropFirst()
            if digits() == 0 { return false }
        }
        if bytes.first == UInt8(ascii: "e") || bytes.first == UInt8(ascii: "E") {
            bytes = bytes.dropFirst()
            if bytes.first == UInt8(ascii: "+") || bytes.first == UInt8(ascii: "-") { bytes = bytes.dropFirst() }
            if digits() == 0 { return false }
        }
        return bytes.isEmpty
    }
}
