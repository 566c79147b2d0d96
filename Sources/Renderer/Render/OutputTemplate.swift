import Foundation
import Mustache

/// A template file on the node, parsed once when the configuration is loaded. Mustache with
/// plain-text escaping: config files are not HTML, so `{{x}}` and `{{{x}}}` both insert as is.
public struct OutputTemplate: Sendable {
    public let path: String
    private let template: MustacheTemplate

    /// Ahead of the operator's text, on a line of its own that mustache removes whole (a standalone tag).
    private static let textContentLine = "{{% CONTENT_TYPE: TEXT }}\n"

    public static func load(path: String) throws(RenderError) -> OutputTemplate {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw RenderError(.template, "template \(path) cannot be read")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw RenderError(.template, "template \(path) is not UTF-8 text")
        }
        return try OutputTemplate(path: path, text: text)
    }

    public init(path: String, text: String) throws(RenderError) {
        self.path = path
        do {
            template = try MustacheTemplate(string: Self.textContentLine + text)
        } catch let error as MustacheTemplate.ParserError {
            guard let cause = error.error as? MustacheTemplate.Error else {
                // The parser ran off the end: a tag was opened and never closed.
                let (line, excerpt) = Self.lastUnclosedTag(in: text)
                throw RenderError(.template, "template \(path):\(line): a tag is not closed with }} (in: \(excerpt))")
            }
            let line = max(1, error.context.lineNumber - 1)
            let excerpt = error.context.line.trimmingCharacters(in: .whitespaces)
            throw RenderError(.template, "template \(path):\(line): \(Self.reason(cause)) (in: \(excerpt))")
        } catch {
            throw RenderError(.template, "template \(path): \(error)")
        }
    }

    func render(_ data: [String: Any]) -> String {
        template.render(data)
    }

    /// The line (1-based) and text of the last `{{` that no `}}` follows.
    private static func lastUnclosedTag(in text: String) -> (Int, String) {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        for (index, line) in lines.enumerated().reversed() {
            guard let open = line.range(of: "{{", options: .backwards) else { continue }
            if line[open.upperBound...].contains("}}") { break }
            return (index + 1, line.trimmingCharacters(in: .whitespaces))
        }
        return (lines.count, "the end of the template")
    }

    private static func reason(_ error: MustacheTemplate.Error) -> String {
        switch error {
        case .sectionCloseNameIncorrect: return "a section is closed with a different name than it was opened with"
        case .unfinishedName: return "a tag is not closed with }}"
        case .expectedSectionEnd: return "a section is opened but never closed"
        case .invalidSetDelimiter: return "a set-delimiter tag is malformed"
        case .transformAppliedToInheritanceSection: return "a transform is applied to an inheritance section"
        case .illegalTokenInsideInheritSection: return "an inheritance section holds a tag it may not"
        case .textInsideInheritSection: return "an inheritance section holds text"
        case .invalidConfigVariableSyntax: return "a {{% }} tag is malformed"
        case .unrecognisedConfigVariable: return "a {{% }} tag names an unknown setting"
        }
    }
}
