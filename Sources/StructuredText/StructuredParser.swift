import Foundation
import Yams

/// Why a structured file could not be parsed, with the line when one is known.
public struct StructuredError: Error, Sendable, Equatable, CustomStringConvertible {
    public var line: Int?
    public var reason: String

    public init(line: Int?, reason: String) {
        self.line = line
        self.reason = reason
    }

    public var description: String { line.map { "line \($0): \(reason)" } ?? reason }
}

/// Parses JSON, YAML and .properties into `StructuredValue`s, scalars as written, within
/// `StructuredBudget`: YAML aliases are expanded while counting nodes, and parsing stops at
/// the budget whatever the file's extension case or size.
public enum StructuredParser {
    public static func parse(_ content: [UInt8], format: StructuredFormat) throws(StructuredError) -> StructuredValue {
        guard let text = String(validating: content, as: UTF8.self), !content.contains(0) else {
            throw StructuredError(line: nil, reason: "not UTF-8 text")
        }
        var budget = StructuredBudget.nodes(forBytes: content.count)
        switch format {
        case .properties:
            return properties(text)
        case .yaml:
            return try yaml(text, budget: &budget)
        case .json:
            // Foundation's reader decides what is JSON; the values are then read as YAML's flow
            // style, which keeps numbers as written (`1.0`, big integers). Anything libyaml reads
            // differently keeps Foundation's values.
            if let line = JSONText.lineBeyondNesting(content, limit: StructuredBudget.nesting) {
                throw StructuredError(line: line, reason: "the data nests deeper than \(StructuredBudget.nesting) levels")
            }
            let decoded = try foundationJSON(content)
            return (try? yaml(text, budget: &budget)) ?? decoded
        }
    }

    private static func yaml(_ text: String, budget: inout Int) throws(StructuredError) -> StructuredValue {
        do {
            var documents = try Yams.compose_all(yaml: text)
            var values: [StructuredValue] = []
            while let document = documents.next() {
                values.append(try convert(document, budget: &budget))
            }
            if let error = documents.error { throw error }
            switch values.count {
            case 0: return .scalar(StructuredScalar(text: "", kind: .null))
            case 1: return values[0]
            default: return .list(values)
            }
        } catch let error as StructuredError {
            throw error
        } catch let error as YamlError {
            throw StructuredError(line: YAMLErrorLocation.line(of: error), reason: YAMLErrorLocation.problem(of: error))
        } catch {
            throw StructuredError(line: nil, reason: "invalid YAML: \(error)")
        }
    }

    /// The composed document (aliases already resolved to the nodes they name) as values,
    /// counting every node visited, so an alias bomb stops at the budget.
    private static func convert(_ node: Node, budget: inout Int) throws(StructuredError) -> StructuredValue {
        budget -= 1
        guard budget >= 0 else {
            throw StructuredError(line: node.mark?.line, reason: "the data expands to too many nodes through aliases (an alias bomb?)")
        }
        switch node {
        case .scalar(let scalar):
            return .scalar(Self.scalar(scalar))
        case .sequence(let sequence):
            var items: [StructuredValue] = []
            items.reserveCapacity(sequence.count)
            for item in sequence { items.append(try convert(item, budget: &budget)) }
            return .list(items)
        case .mapping(let mapping):
            var members = OrderedMembers()
            var merged = OrderedMembers()
            for (key, value) in mapping {
                if case .scalar(let scalar) = key, scalar.style == .plain, scalar.string == "<<" {
                    // A merge key: its mapping(s) fill in names the mapping does not set itself.
                    let sources: [Node] = if case .sequence(let list) = value { Array(list) } else { [value] }
                    for source in sources {
                        guard case .object(let inherited, _) = try convert(source, budget: &budget) else { continue }
                        for member in inherited where !merged.contains(member.name) { merged.set(member.name, member.value) }
                    }
                    continue
                }
                let name: String = if case .scalar(let scalar) = key { scalar.string } else { try convert(key, budget: &budget).json }
                members.set(name, try convert(value, budget: &budget))
            }
            for member in merged.members where !members.contains(member.name) { members.set(member.name, member.value) }
            return .object(members.members)
        case .alias:
            return .scalar(StructuredScalar(text: "", kind: .null))
        }
    }

    private static func scalar(_ scalar: Node.Scalar) -> StructuredScalar {
        guard scalar.style == .plain else { return .string(scalar.string) }
        switch Tag.Name(rawValue: Node.scalar(scalar).tag.rawValue) {
        case .null:
            return StructuredScalar(text: "", kind: .null)
        case .bool:
            return StructuredScalar(text: scalar.string, kind: .boolean(Bool.construct(from: scalar) ?? false))
        case .int:
            let typed = Int.construct(from: scalar).map(String.init)
            return StructuredScalar(text: scalar.string, kind: .integer, json: JSONText.isNumber(scalar.string) ? scalar.string : typed)
        case .float:
            return StructuredScalar(text: scalar.string, kind: .float)
        default:
            return .string(scalar.string)
        }
    }

    private static func foundationJSON(_ content: [UInt8]) throws(StructuredError) -> StructuredValue {
        do {
            return try JSONDecoder().decode(DecodedJSON.self, from: Data(content)).value
        } catch {
            throw StructuredError(line: nil, reason: "invalid JSON: \(error)")
        }
    }

    /// Dotted keys nest (`db.host` is `db` → `host`); a key that is both a value and a prefix
    /// (`c=4`, `c.d=3`, in either order) keeps both; a repeated key keeps its last value.
    private static func properties(_ text: String) -> StructuredValue {
        let root = PropertyNode()
        for (key, value) in PropertiesParser.parse(text) {
            var node = root
            for part in key.split(separator: ".", omittingEmptySubsequences: false) { node = node.child(String(part)) }
            node.value = value
        }
        return root.structured
    }

    private final class PropertyNode {
        var value: String?
        private var nodes: [String: PropertyNode] = [:]
        private var order: [String] = []

        func child(_ name: String) -> PropertyNode {
            if let existing = nodes[name] { return existing }
            let node = PropertyNode()
            nodes[name] = node
            order.append(name)
            return node
        }

        var structured: StructuredValue {
            guard !order.isEmpty else { return .scalar(.string(value ?? "")) }
            return .object(order.map { StructuredMember(name: $0, value: nodes[$0]!.structured) }, value: value.map(StructuredScalar.string))
        }
    }
}

/// Members in first-seen order with each name once; setting a name again replaces its value.
struct OrderedMembers {
    private(set) var members: [StructuredMember] = []
    private var positions: [String: Int] = [:]

    func contains(_ name: String) -> Bool { positions[name] != nil }

    mutating func set(_ name: String, _ value: StructuredValue) {
        if let position = positions[name] {
            members[position].value = value
        } else {
            positions[name] = members.count
            members.append(StructuredMember(name: name, value: value))
        }
    }
}

/// JSON through Foundation's decoder (numbers lose their written form here).
private struct DecodedJSON: Decodable {
    let value: StructuredValue

    private struct Name: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    init(from decoder: any Decoder) throws {
        if let object = try? decoder.container(keyedBy: Name.self) {
            value = .object(try object.allKeys.sorted { $0.stringValue < $1.stringValue }.map {
                StructuredMember(name: $0.stringValue, value: try object.decode(DecodedJSON.self, forKey: $0).value)
            })
            return
        }
        if var array = try? decoder.unkeyedContainer() {
            var items: [StructuredValue] = []
            while !array.isAtEnd { items.append(try array.decode(DecodedJSON.self).value) }
            value = .list(items)
            return
        }
        let single = try decoder.singleValueContainer()
        if single.decodeNil() {
            value = .scalar(StructuredScalar(text: "", kind: .null))
        } else if let bool = try? single.decode(Bool.self) {
            value = .scalar(StructuredScalar(text: bool ? "true" : "false", kind: .boolean(bool)))
        } else if let integer = try? single.decode(Int.self) {
            value = .scalar(StructuredScalar(text: String(integer), kind: .integer))
        } else if let number = try? single.decode(Double.self) {
            value = .scalar(StructuredScalar(text: String(number), kind: .float))
        } else {
            value = .scalar(.string(try single.decode(String.self)))
        }
    }
}
