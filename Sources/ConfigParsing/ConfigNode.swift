import Foundation
import StructuredText
import Yams

/// A node of a parsed YAML (or JSON) configuration file that remembers where it came from, so
/// that every error can say `file:line`. Mappings must be read completely: `finish()` reports
/// any key nobody asked for as unknown.
package struct ConfigNode {
    package let file: String
    let node: Node
    /// What this node is, for messages: `repos[0].mappings[1].prefix`.
    package let path: String

    package var line: Int? { node.mark.map { $0.line } }

    /// `file:line (path)`, to say where something was declared.
    package var location: String {
        let place = line.map { "\(file):\($0)" } ?? file
        return path.isEmpty ? place : "\(place) (\(path))"
    }

    package func error(_ message: String) -> ConfigError {
        ConfigError(file: file, line: line, message: path.isEmpty ? message : "\(path): \(message)")
    }

    /// A configuration file's text.
    package static func readText(file: String) throws(ConfigError) -> String {
        guard let data = FileManager.default.contents(atPath: file) else {
            throw ConfigError(file: file, line: nil, message: "cannot read the file")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ConfigError(file: file, line: nil, message: "is not UTF-8 text")
        }
        return text
    }

    /// Parses `text`; an empty document is an empty mapping.
    package static func parse(_ text: String, file: String) throws(ConfigError) -> ConfigNode {
        do {
            let root = try Yams.compose(yaml: text) ?? Node.mapping(.init([]))
            return ConfigNode(file: file, node: root, path: "")
        } catch let error as YamlError {
            throw ConfigError(file: file, line: YAMLErrorLocation.line(of: error), message: YAMLErrorLocation.problem(of: error))
        } catch {
            throw ConfigError(file: file, line: nil, message: "cannot parse: \(error)")
        }
    }

    // MARK: Scalars

    private var scalarText: String? {
        if case .scalar(let scalar) = node { return scalar.string }
        return nil
    }

    private var isNull: Bool {
        guard case .scalar(let scalar) = node else { return false }
        return scalar.style == .plain && ["", "~", "null", "Null", "NULL"].contains(scalar.string)
    }

    package func string() throws(ConfigError) -> String {
        guard let text = scalarText, !isNull else { throw error("expected a string, found \(kind)") }
        return text
    }

    package func nonEmptyString() throws(ConfigError) -> String {
        let text = try string()
        guard !text.trimmingCharacters(in: .whitespaces).isEmpty else { throw error("must not be empty") }
        return text
    }

    package func bool() throws(ConfigError) -> Bool {
        guard case .scalar(let scalar) = node, let value = Bool.construct(from: scalar) else {
            throw error("expected true or false, found \(kind)")
        }
        return value
    }

    package func int() throws(ConfigError) -> Int {
        guard case .scalar(let scalar) = node, let value = Int(scalar.string) else {
            throw error("expected a whole number, found \(kind)")
        }
        return value
    }

    /// A duration such as `30s`, `500ms`, `5m`, `1h` (a bare number is seconds).
    package func duration() throws(ConfigError) -> Duration {
        let text = try string()
        guard let value = DurationText.parse(text) else {
            throw error("\(text.debugDescription) is not a duration (use e.g. 500ms, 30s, 5m, 1h)")
        }
        return value
    }

    /// A size such as `512KiB`, `1MiB`, `2048` (bytes).
    package func byteCount() throws(ConfigError) -> Int {
        let text = try string()
        guard let value = ByteCountText.parse(text) else {
            throw error("\(text.debugDescription) is not a size (use e.g. 4096, 512KiB, 1MiB)")
        }
        return value
    }

    package func oneOf<Choice: RawRepresentable & CaseIterable>(_ type: Choice.Type) throws(ConfigError) -> Choice where Choice.RawValue == String {
        let text = try string()
        guard let choice = Choice(rawValue: text) else {
            let allowed = Choice.allCases.map(\.rawValue).joined(separator: ", ")
            throw error("\(text.debugDescription) is not one of: \(allowed)")
        }
        return choice
    }

    /// A list; a single scalar is accepted as a list of one where `allowSingle` says so.
    package func list(allowSingle: Bool = false) throws(ConfigError) -> [ConfigNode] {
        switch node {
        case .sequence(let sequence):
            return sequence.enumerated().map { ConfigNode(file: file, node: $0.element, path: "\(path)[\($0.offset)]") }
        case .scalar where allowSingle && !isNull:
            return [self]
        default:
            throw error("expected a list, found \(kind)")
        }
    }

    package func strings(allowSingle: Bool = false) throws(ConfigError) -> [String] {
        var result: [String] = []
        for item in try list(allowSingle: allowSingle) { result.append(try item.nonEmptyString()) }
        return result
    }

    package func mapping() throws(ConfigError) -> ConfigMapping {
        guard case .mapping(let mapping) = node else { throw error("expected a mapping of keys to values, found \(kind)") }
        var pairs: [(key: String, value: ConfigNode)] = []
        for (key, value) in mapping {
            let keyNode = ConfigNode(file: file, node: key, path: path)
            guard case .scalar(let scalar) = key else { throw keyNode.error("keys must be strings") }
            if pairs.contains(where: { $0.key == scalar.string }) {
                throw keyNode.error("key \(scalar.string) appears twice")
            }
            let childPath = path.isEmpty ? scalar.string : "\(path).\(scalar.string)"
            pairs.append((scalar.string, ConfigNode(file: file, node: value, path: childPath)))
        }
        return ConfigMapping(owner: self, pairs: pairs)
    }

    package var kind: String {
        switch node {
        case .scalar: isNull ? "nothing" : "\(scalarText.map { $0.debugDescription } ?? "a scalar")"
        case .mapping: "a mapping"
        case .sequence: "a list"
        case .alias: "an alias"
        }
    }
}

/// The keys of one mapping; reading a key marks it used, `finish()` rejects the rest.
package final class ConfigMapping {
    package let owner: ConfigNode
    private let pairs: [(key: String, value: ConfigNode)]
    private var used: Set<String> = []

    init(owner: ConfigNode, pairs: [(key: String, value: ConfigNode)]) {
        self.owner = owner
        self.pairs = pairs
    }

    /// The value of `key`, or nil when absent or explicitly null.
    package func optional(_ key: String) -> ConfigNode? {
        used.insert(key)
        guard let value = pairs.first(where: { $0.key == key })?.value else { return nil }
        if case .scalar(let scalar) = value.node, scalar.style == .plain, ["", "~", "null"].contains(scalar.string) { return nil }
        return value
    }

    package func required(_ key: String) throws(ConfigError) -> ConfigNode {
        guard let value = optional(key) else {
            if let typo = pairs.first(where: { Self.isLikelyTypo($0.key, of: key) }) {
                throw typo.value.error("missing required key \(key); found \(typo.key) instead (a typo?)")
            }
            throw owner.error("missing required key \(key)")
        }
        return value
    }

    package var keys: [String] { pairs.map(\.key) }

    /// Within two single-character edits of `key` (Levenshtein distance).
    static func isLikelyTypo(_ candidate: String, of key: String) -> Bool {
        let a = Array(candidate)
        let b = Array(key)
        guard candidate != key, abs(a.count - b.count) <= 2 else { return false }
        var previous = Array(0...b.count)
        for i in 1...max(a.count, 1) where !a.isEmpty {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in 1...max(b.count, 1) where !b.isEmpty {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count] <= 2
    }

    /// Fails on the first key that was never read: a typo must not be silently ignored.
    package func finish() throws(ConfigError) {
        for (key, value) in pairs where !used.contains(key) {
            let known = used.sorted().joined(separator: ", ")
            throw ConfigError(
                file: value.file, line: value.line,
                message: "unknown key \(owner.path.isEmpty ? key : "\(owner.path).\(key)") (known here: \(known))")
        }
    }
}
