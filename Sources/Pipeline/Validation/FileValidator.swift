import Foundation
import StructuredText

/// The checks a file must pass before it may be written to KV: size, text where text is
/// required, JSON and YAML that parse (with bounded alias expansion).
public struct FileValidator: Sendable {
    public let rules: ValidationConfig

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
        let format = StructuredFormat.of(path: path)
        let isJSON = rules.json && format == .json
        let isYAML = rules.yaml && format == .yaml
        guard rules.textOnly || isJSON || isYAML else { return nil }
        guard let text = TextContent.text(of: content) else {
            return FileProblem(file: path, reason: "binary content where text is required (NUL bytes or invalid UTF-8)")
        }
        if isJSON { return JSONCheck.problem(path: path, text: text, bytes: content) }
        if isYAML { return YAMLCheck.problem(path: path, content: content) }
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

/// YAML is parsed as the renderer parses it, within the same budget (`StructuredBudget`).
enum YAMLCheck {
    static func problem(path: String, content: [UInt8]) -> FileProblem? {
        do throws(StructuredError) {
            _ = try StructuredParser.parse(content, format: .yaml)
            return nil
        } catch {
            return FileProblem(file: path, line: error.line, reason: error.reason)
        }
    }
}
