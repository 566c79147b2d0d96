import Mustache

/// A name a template uses that the data does not have, or a partial that does not exist.
struct TemplateProblem: Sendable, Equatable, CustomStringConvertible {
    var file: String
    var line: Int
    var tag: String
    var reason: String

    var description: String { "template \(file):\(line): {{\(tag)}}: \(reason)" }
}

/// Walks a template's outline over the data the way swift-mustache renders it (the same name
/// lookup up the context stack, the same truthiness for sections, lists entered per item) and
/// collects every variable the data lacks and every unknown partial. Sections may name what is
/// absent: that is how a template writes optional values. The walk also reads, lazily, exactly
/// the files the render will read, which is what `files_digest` covers.
struct TemplateCheck {
    struct Partial: Sendable {
        var path: String
        var outline: TemplateOutline
    }

    /// Partials within partials deeper than this are refused: a partial that includes itself
    /// without data to end it would recurse until the renderer crashed.
    static let maxPartialDepth = 20
    static let maxProblems = 20

    let partials: [String: Partial]
    /// Where partial names are looked for, for the message about an unknown one.
    let partialDirectory: String
    private(set) var problems: [TemplateProblem] = []
    /// Set when partials nest too deep: refused even where strict mode is off.
    private(set) var runaway: TemplateProblem?

    init(partials: [String: Partial], partialDirectory: String) {
        self.partials = partials
        self.partialDirectory = partialDirectory
    }

    mutating func walk(_ elements: [TemplateOutline.Element], file: String, stack: [Any], depth: Int = 0) {
        for element in elements {
            // Past the problem limit the walk goes on (it also decides which files are read).
            guard runaway == nil else { return }
            switch element {
            case .variable(let name, let line):
                if case .missing(let reason) = Self.resolve(name, in: stack) {
                    report(TemplateProblem(file: file, line: line, tag: name.text, reason: reason))
                }
            case .section(let name, _, let inverted, let body):
                let value: Any? = if case .found(let found) = Self.resolve(name, in: stack) { found } else { nil }
                if inverted {
                    if !Self.isTruthy(value) { walk(body, file: file, stack: stack, depth: depth) }
                } else {
                    for pushed in Self.contexts(entering: value, from: stack) { walk(body, file: file, stack: pushed, depth: depth) }
                }
            case .block(let body):
                walk(body, file: file, stack: stack, depth: depth)
            case .partial(let name, let line, let body):
                walk(body, file: file, stack: stack, depth: depth)
                guard let partial = partials[name] else {
                    report(
                        TemplateProblem(
                            file: file, line: line, tag: "> \(name)",
                            reason: "no partial \(name): neither \(partialDirectory)/\(name) nor \(partialDirectory)/\(name).mustache exists"))
                    continue
                }
                guard depth < Self.maxPartialDepth else {
                    runaway = TemplateProblem(
                        file: file, line: line, tag: "> \(name)", reason: "partials nest deeper than \(Self.maxPartialDepth) (does a partial include itself?)")
                    return
                }
                walk(partial.outline.elements, file: partial.path, stack: stack, depth: depth + 1)
            }
        }
    }

    private mutating func report(_ problem: TemplateProblem) {
        if problems.count < Self.maxProblems { problems.append(problem) }
    }

    enum Lookup {
        case found(Any)
        case missing(String)
    }

    /// swift-mustache's lookup: `.` is the current object; the first part of a dotted name is
    /// looked for from the innermost context outwards, the rest only inside what it found.
    static func resolve(_ name: TemplateOutline.Name, in stack: [Any]) -> Lookup {
        guard let top = stack.last else { return .missing("there is no data") }
        if name.path.isEmpty { return name.transformed ? .found(true) : .found(top) }
        if name.path == "." { return .found(top) }
        var parts = name.path.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        var value: Any
        if name.path.hasPrefix(".") {
            parts.removeFirst()
            value = top
        } else {
            let first = parts.removeFirst()
            guard let found = stack.reversed().lazy.compactMap({ child(first, of: $0) }).first else {
                return .missing(stack.count == 1 ? absence(of: first, in: top) : "nothing named \(first) here or in an enclosing section")
            }
            value = found
        }
        var path = name.path.split(separator: ".").first.map(String.init) ?? ""
        for part in parts {
            guard let found = child(part, of: value) else { return .missing("\(path): \(absence(of: part, in: value))") }
            value = found
            path += "." + part
        }
        return .found(value)
    }

    private static func child(_ name: String, of object: Any) -> Any? {
        (object as? any MustacheParent)?.child(named: name)
    }

    private static func absence(of name: String, in object: Any) -> String {
        if let parent = object as? any TemplateParent { return parent.absence(of: name) }
        if let dictionary = object as? [String: Any] {
            return "there is no \(name) here (names here: \(FilesNode.list(dictionary.keys.sorted())))"
        }
        return "\(name) cannot be looked up in a single value"
    }

    /// The stacks a section's body is rendered with: once per list item, once with the value
    /// pushed, once unchanged for `true`, never for false, null, absent or an empty list.
    private static func contexts(entering value: Any?, from stack: [Any]) -> [[Any]] {
        switch value {
        case let list as ListNode: return Array(list).map { stack + [$0] }
        case let array as [Any]: return array.map { stack + [$0] }
        case let bool as Bool: return bool ? [stack] : []
        case let renderable as any MustacheCustomRenderable where renderable.isNull: return []
        case .some(let value): return [stack + [value]]
        case .none: return []
        }
    }

    private static func isTruthy(_ value: Any?) -> Bool {
        !contexts(entering: value, from: []).isEmpty
    }
}
