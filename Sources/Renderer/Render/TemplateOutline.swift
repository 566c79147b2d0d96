/// The tags of a Mustache template as a tree, with their lines: what the strict check walks.
/// swift-mustache keeps its tokens to itself, so this reads the same syntax again (delimiter
/// changes, comments, triple mustaches, sections, partials, blocks); the text was already
/// accepted by swift-mustache's parser, so anything unexpected here is skipped, not reported.
struct TemplateOutline: Sendable {
    indirect enum Element: Sendable {
        /// `{{x}}`, `{{{x}}}`, `{{&x}}`: the name must exist.
        case variable(Name, line: Int)
        /// `{{#x}}…{{/x}}` or `{{^x}}…{{/x}}`: the name may be absent.
        case section(Name, line: Int, inverted: Bool, body: [Element])
        /// `{{>x}}`, and `{{<x}}…{{/x}}` (a parent whose blocks the body overrides).
        case partial(String, line: Int, body: [Element])
        /// `{{$x}}…{{/x}}`: a block, rendered with its default content here.
        case block(body: [Element])
    }

    /// A tag's name; `transformed` when swift-mustache transforms apply (`uppercased(x)`).
    struct Name: Sendable, Equatable {
        var path: String
        var transformed: Bool
        var text: String

        init(_ text: String) {
            self.text = text
            var inner = Substring(text)
            var transformed = false
            while let open = inner.firstIndex(of: "("), inner.hasSuffix(")") {
                inner = inner[inner.index(after: open)..<inner.index(before: inner.endIndex)]
                transformed = true
            }
            self.path = String(inner).trimmingSpaces
            self.transformed = transformed
        }
    }

    let elements: [Element]

    init(_ text: String) {
        let bytes = Array(text.utf8)
        var open: [UInt8] = Array("{{".utf8)
        var close: [UInt8] = Array("}}".utf8)
        var position = 0
        var line = 1
        var lineCountedTo = 0
        var frames: [(kind: Character, name: String, line: Int, elements: [Element])] = [(" ", "", 1, [])]

        func lineAt(_ offset: Int) -> Int {
            line += bytes[lineCountedTo..<offset].count { $0 == UInt8(ascii: "\n") }
            lineCountedTo = offset
            return line
        }
        func emit(_ element: Element) { frames[frames.count - 1].elements.append(element) }

        while let start = Self.find(open, in: bytes, from: position) {
            let tagLine = lineAt(start)
            var contentStart = start + open.count
            var closing = close
            if open == Array("{{".utf8), contentStart < bytes.count, bytes[contentStart] == UInt8(ascii: "{") {
                contentStart += 1
                closing = Array("}".utf8) + close
            }
            guard let end = Self.find(closing, in: bytes, from: contentStart) else { break }
            position = end + closing.count
            let content = String(decoding: bytes[contentStart..<end], as: UTF8.self).trimmingSpaces
            if closing.count > close.count {
                emit(.variable(Name(content), line: tagLine))
                continue
            }
            guard let sigil = content.first else { continue }
            let rest = String(content.dropFirst()).trimmingSpaces
            switch sigil {
            case "!", "%":
                continue
            case "=":
                let parts = content.dropFirst().dropLast().split(whereSeparator: { $0 == " " || $0 == "\t" })
                if parts.count == 2 {
                    open = Array(parts[0].utf8)
                    close = Array(parts[1].utf8)
                }
            case "#", "^", "$", "<":
                frames.append((sigil, rest, tagLine, []))
            case "/":
                guard frames.count > 1 else { continue }
                let frame = frames.removeLast()
                switch frame.kind {
                case "$": emit(.block(body: frame.elements))
                case "<": emit(.partial(frame.name, line: frame.line, body: frame.elements))
                default: emit(.section(Name(frame.name), line: frame.line, inverted: frame.kind == "^", body: frame.elements))
                }
            case ">":
                if rest.hasPrefix("*") {
                    // A dynamic partial: its name comes from the data.
                    emit(.variable(Name(String(rest.dropFirst()).trimmingSpaces), line: tagLine))
                } else {
                    emit(.partial(rest, line: tagLine, body: []))
                }
            case "&":
                emit(.variable(Name(rest), line: tagLine))
            default:
                emit(.variable(Name(content), line: tagLine))
            }
        }
        while frames.count > 1 {
            let frame = frames.removeLast()
            frames[frames.count - 1].elements += frame.elements
        }
        elements = frames[0].elements
    }

    /// Every partial named anywhere in the outline.
    var partialNames: Set<String> {
        var names: Set<String> = []
        func visit(_ elements: [Element]) {
            for element in elements {
                switch element {
                case .variable: break
                case .section(_, _, _, let body), .block(let body): visit(body)
                case .partial(let name, _, let body):
                    names.insert(name)
                    visit(body)
                }
            }
        }
        visit(elements)
        return names
    }

    private static func find(_ needle: [UInt8], in bytes: [UInt8], from start: Int) -> Int? {
        guard !needle.isEmpty, start + needle.count <= bytes.count else { return nil }
        var index = start
        while index + needle.count <= bytes.count {
            if bytes[index] == needle[0], bytes[index..<(index + needle.count)].elementsEqual(needle) { return index }
            index += 1
        }
        return nil
    }
}

extension String {
    var trimmingSpaces: String {
        String(drop { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }.reversed().drop { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }.reversed())
    }
}
