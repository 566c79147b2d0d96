import Foundation
import Mustache

/// A template file on the node, parsed once when the configuration is loaded, with the partials
/// it names (`{{> name}}`: the file `name` or `name.mustache` beside it). Mustache with
/// plain-text escaping: config files are not HTML, so `{{x}}` and `{{{x}}}` both insert as is.
public struct OutputTemplate: Sendable {
    public let path: String
    private let template: MustacheTemplate
    private let outline: TemplateOutline
    private let library: MustacheLibrary
    private let partials: [String: TemplateCheck.Partial]

    /// Ahead of the operator's text, on a line of its own that mustache removes whole (a standalone tag).
    private static let textContentLine = "{{% CONTENT_TYPE: TEXT }}\n"

    public static func load(path: String) throws(RenderError) -> OutputTemplate {
        try OutputTemplate(path: path, text: readText(path))
    }

    private static func readText(_ path: String) throws(RenderError) -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw RenderError(.template, "template \(path) cannot be read")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw RenderError(.template, "template \(path) is not UTF-8 text")
        }
        return text
    }

    public init(path: String, text: String) throws(RenderError) {
        self.path = path
        template = try Self.parse(text, path: path)
        outline = TemplateOutline(text)
        // Partials, and the partials they name, read once here; one that is missing is
        // reported where it is used (strict mode) or renders as nothing.
        var library = MustacheLibrary()
        var partials: [String: TemplateCheck.Partial] = [:]
        var pending = Array(outline.partialNames)
        while let name = pending.popLast() {
            guard partials[name] == nil, let file = Self.partialFile(name, beside: path) else { continue }
            let partialText = try Self.readText(file)
            library.register(try Self.parse(partialText, path: file), named: name)
            let partialOutline = TemplateOutline(partialText)
            partials[name] = TemplateCheck.Partial(path: file, outline: partialOutline)
            pending += partialOutline.partialNames
        }
        self.library = library
        self.partials = partials
    }

    /// `name` or `name.mustache` in the template's directory; names that leave it are not looked up.
    private static func partialFile(_ name: String, beside template: String) -> String? {
        let parts = name.split(separator: "/")
        guard !name.isEmpty, !name.hasPrefix("/"), !parts.contains("..") else { return nil }
        let directory = (template as NSString).deletingLastPathComponent
        return [name, name + ".mustache"].map { directory + "/" + $0 }.first { FileManager.default.fileExists(atPath: $0) }
    }

    private static func parse(_ text: String, path: String) throws(RenderError) -> MustacheTemplate {
        do {
            return try MustacheTemplate(string: Self.textContentLine + text)
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

    /// Renders `data`. With `strict`, a name the data lacks or an unknown partial fails the
    /// output instead of rendering as nothing; partials nesting without end fail it always.
    func render(_ data: TemplateData, strict: Bool) throws(RenderError) -> String {
        var check = TemplateCheck(partials: partials, partialDirectory: (path as NSString).deletingLastPathComponent)
        check.walk(outline.elements, file: path, stack: [data.root])
        if let runaway = check.runaway { throw RenderError(.template, runaway.description) }
        if strict, let first = check.problems.first {
            let more = check.problems.count > 1 ? " (and \(check.problems.count - 1) more\(check.problems.count >= TemplateCheck.maxProblems ? " at least" : ""))" : ""
            throw RenderError(
                .template,
                "\(first)\(more); the old file stays (write optional values in a section, {{#x}}…{{/x}}, or set strict: false on the output)")
        }
        data.sealFilesDigest()
        return template.render(data.root, library: library)
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
