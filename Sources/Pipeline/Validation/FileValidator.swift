import Foundation
import Yams

/// The checks a file must pass before it may be written to KV: size, text where text is
/// required, JSON and YAML that parse (with bounded alias expansion).
public struct FileValidator: Sendable {
    public let rules: ValidationConfig
    /// The most YAML nodes a file may expand to through aliases (a "billion laughs" file stops here).
    public static let yamlNodeBudget = 1_000_000

    public init(rules: ValidationConfig) {
        self.rules = rules
    }

    /// A file over `max_file_size`, found from its size alone (it was not read).
    public func oversized(path: String, size: Int) -> FileProblem {
        FileProblem(file: path, reason: "file is \(size) bytes, over the limit of \(rules.maxFileSize)")
    }

    /// The problem with `content` at `path` (relative to the repository root), or nil.
    public func problem(path: String, content: [UInt8]) -> FileProblem? {
        if content.count > rules.maxFileSize { return oversized(path: path, size: content.count) }
        let isJSON = rules.json && path.hasSuffix(".json")
        let isYAML = rules.yaml && (path.hasSuffix(".yaml") || path.hasSuffix(".yml"))
        guard rules.textOnly || isJSON || isYAML else { return nil }
        guard let text = TextContent.text(of: content) else {
            return FileProblem(file: path, reason: "binary content where text is required (NUL bytes or invalid UTF-8)")
        }
        if isJSON { return JSONCheck.problem(path: path, text: text, bytes: content) }
        if isYAML { return YAMLCheck.problem(path: path, text: text, budget: Self.yamlNodeBudget) }
        return nil
    }
}

enum TextContent {
    /// The content as text, or nil when it holds NUL bytes or is not UTF-8.
    static func text(of content: [UInt8]) -> String? {
        guard !content.contains(0) else { return nil }
        return String(validating: content, as: UTF8.self)
    }
}

enum JSONCheck {
    static func problem(path: String, text: String, bytes: [UInt8]) -> FileProblem? {
        if text.allSatisfy(\.isWhitespace) { return FileProblem(file: path, line: 1, reason: "invalid JSON: the file is empty") }
        do {
            _ = try JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed])
            return nil
        } catch {
            let detail = (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String ?? "\(error)"
            return FileProblem(file: path, line: line(in: detail, bytes: bytes), reason: "invalid JSON: \(detail)")
        }
    }

    /// Foundation says "around line N, column M" or "at character N"; either gives the line.
    private static func line(in detail: String, bytes: [UInt8]) -> Int? {
        if let range = detail.range(of: "line ") {
            let digits = detail[range.upperBound...].prefix { $0.isNumber }
            if let line = Int(digits) { return line }
        }
        if let range = detail.range(of: "character ") {
            let digits = detail[range.upperBound...].prefix { $0.isNumber }
            if let offset = Int(digits) { return bytes.prefix(offset).count { $0 == UInt8(ascii: "\n") } + 1 }
        }
        if detail.lowercased().contains("end of file") || detail.lowercased().contains("end of data") {
            // The document stops early: the problem is on its last line.
            let trimmed = bytes.reversed().drop { $0 == UInt8(ascii: "\n") || $0 == UInt8(ascii: " ") }
            return trimmed.count { $0 == UInt8(ascii: "\n") } + 1
        }
        return nil
    }
}

enum YAMLCheck {
    static func problem(path: String, text: String, budget: Int) -> FileProblem? {
        do {
            var remaining = budget
            var documents = try Yams.compose_all(yaml: text)
            while let document = documents.next() {
                if let mark = exceedsBudget(document, remaining: &remaining) {
                    return FileProblem(
                        file: path, line: mark,
                        reason: "YAML expands to more than \(budget) nodes through aliases (an alias bomb?)")
                }
            }
            if let error = documents.error { throw error }
            return nil
        } catch let error as YamlError {
            return FileProblem(file: path, line: YAMLErrorLocation.line(of: error), reason: YAMLErrorLocation.problem(of: error))
        } catch {
            return FileProblem(file: path, reason: "invalid YAML: \(error)")
        }
    }

    /// Walks the composed document (aliases already expanded), counting nodes; returns the
    /// line where the budget ran out.
    private static func exceedsBudget(_ node: Node, remaining: inout Int) -> Int? {
        remaining -= 1
        if remaining < 0 { return node.mark?.line ?? 1 }
        switch node {
        case .mapping(let mapping):
            for (key, value) in mapping {
                if let line = exceedsBudget(key, remaining: &remaining) ?? exceedsBudget(value, remaining: &remaining) { return line }
            }
        case .sequence(let sequence):
            for item in sequence {
                if let line = exceedsBudget(item, remaining: &remaining) { return line }
            }
        case .scalar, .alias:
            break
        }
        return nil
    }
}
