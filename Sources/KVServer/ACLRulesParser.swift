import Foundation

/// Reads policy rules in the two forms Consul accepts: HCL
/// (`key_prefix "app/" { policy = "write" }`, `acl = "write"`) and the equivalent JSON.
enum ACLRulesParser {
    struct Failure: Error, CustomStringConvertible {
        let line: Int
        let reason: String
        var description: String { "Failed to parse ACL rules: line \(line): \(reason)" }
    }

    static func parse(_ text: String) throws(Failure) -> ACLRules {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.hasPrefix("{") { return try parseJSON(trimmed) }
        var tokens = try HCLTokenizer.tokens(of: text)[...]
        var rules = ACLRules()
        while let token = tokens.popFirst() {
            guard case .identifier(let name) = token.kind else { throw Failure(line: token.line, reason: "expected a rule name") }
            if name == "acl" || name == "operator" || name == "keyring" {
                let level = try assignment(&tokens, line: token.line)
                if name == "acl" { rules.acl = try access(level, line: token.line) }
                continue
            }
            let (resource, isPrefix) = try resourceName(name, line: token.line)
            guard case .string(let target)? = tokens.popFirst()?.kind else {
                throw Failure(line: token.line, reason: "\(name) needs a quoted name")
            }
            try expect(.open, &tokens, line: token.line)
            var level: ACLRules.Access?
            while let inner = tokens.first, inner.kind != .close {
                tokens.removeFirst()
                guard case .identifier(let field) = inner.kind else { throw Failure(line: inner.line, reason: "expected policy = \"...\"") }
                let value = try assignment(&tokens, line: inner.line)
                if field == "policy" { level = try access(value, line: inner.line) }
            }
            try expect(.close, &tokens, line: token.line)
            guard let level else { throw Failure(line: token.line, reason: "\(name) \"\(target)\" has no policy") }
            rules.rules.append(.init(resource: resource, name: target, isPrefix: isPrefix, access: level))
        }
        return rules
    }

    private static func parseJSON(_ text: String) throws(Failure) -> ACLRules {
        guard let object = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] else {
            throw Failure(line: 1, reason: "not a JSON object")
        }
        var rules = ACLRules()
        for (name, value) in object.sorted(by: { $0.key < $1.key }) {
            if name == "acl" || name == "operator" || name == "keyring" {
                guard let level = value as? String else { throw Failure(line: 1, reason: "\(name) must be a string") }
                if name == "acl" { rules.acl = try access(level, line: 1) }
                continue
            }
            let (resource, isPrefix) = try resourceName(name, line: 1)
            guard let targets = value as? [String: Any] else { throw Failure(line: 1, reason: "\(name) must be an object") }
            for (target, body) in targets.sorted(by: { $0.key < $1.key }) {
                guard let level = (body as? [String: Any])?["policy"] as? String else {
                    throw Failure(line: 1, reason: "\(name) \"\(target)\" has no policy")
                }
                rules.rules.append(.init(resource: resource, name: target, isPrefix: isPrefix, access: try access(level, line: 1)))
            }
        }
        return rules
    }

    private static func resourceName(_ name: String, line: Int) throws(Failure) -> (ACLRules.Resource, Bool) {
        let isPrefix = name.hasSuffix("_prefix")
        let base = isPrefix ? String(name.dropLast("_prefix".count)) : name
        guard let resource = ACLRules.Resource(rawValue: base) else {
            throw Failure(line: line, reason: "unsupported rule \(name) (supported: key, session, node, service, their _prefix forms, acl)")
        }
        return (resource, isPrefix)
    }

    private static func access(_ text: String, line: Int) throws(Failure) -> ACLRules.Access {
        guard let level = ACLRules.Access(rawValue: text) else {
            throw Failure(line: line, reason: "invalid policy \(text.debugDescription) (deny, read, list or write)")
        }
        return level
    }

    private static func assignment(_ tokens: inout ArraySlice<HCLTokenizer.Token>, line: Int) throws(Failure) -> String {
        try expect(.equals, &tokens, line: line)
        guard case .string(let value)? = tokens.popFirst()?.kind else { throw Failure(line: line, reason: "expected a quoted value after =") }
        return value
    }

    private static func expect(_ kind: HCLTokenizer.Kind, _ tokens: inout ArraySlice<HCLTokenizer.Token>, line: Int) throws(Failure) {
        guard let token = tokens.popFirst() else { throw Failure(line: line, reason: "unexpected end of rules") }
        guard token.kind == kind else { throw Failure(line: token.line, reason: "expected \(kind.symbol)") }
    }
}

/// Splits the HCL subset of ACL rules into tokens, keeping line numbers for errors.
enum HCLTokenizer {
    enum Kind: Equatable {
        case identifier(String), string(String), open, close, equals

        var symbol: String {
            switch self {
            case .identifier(let name): name
            case .string(let text): text.debugDescription
            case .open: "{"
            case .close: "}"
            case .equals: "="
            }
        }
    }

    struct Token {
        let kind: Kind
        let line: Int
    }

    static func tokens(of text: String) throws(ACLRulesParser.Failure) -> [Token] {
        var tokens: [Token] = []
        var line = 1
        var characters = Array(text)[...]
        while let character = characters.popFirst() {
            switch character {
            case "\n": line += 1
            case " ", "\t", "\r", ",": continue
            case "{": tokens.append(Token(kind: .open, line: line))
            case "}": tokens.append(Token(kind: .close, line: line))
            case "=": tokens.append(Token(kind: .equals, line: line))
            case "#":
                while let next = characters.first, next != "\n" { characters.removeFirst() }
            case "/" where characters.first == "/":
                while let next = characters.first, next != "\n" { characters.removeFirst() }
            case "\"":
                var value = ""
                var closed = false
                while let next = characters.popFirst() {
                    if next == "\"" { closed = true; break }
                    if next == "\n" { break }
                    if next == "\\", let escaped = characters.popFirst() {
                        value.append(escaped == "n" ? "\n" : escaped == "t" ? "\t" : escaped)
                    } else {
                        value.append(next)
                    }
                }
                guard closed else { throw ACLRulesParser.Failure(line: line, reason: "unterminated string") }
                tokens.append(Token(kind: .string(value), line: line))
            case let first where first.isLetter || first == "_":
                var name = String(first)
                while let next = characters.first, next.isLetter || next.isNumber || next == "_" || next == "-" {
                    name.append(next)
                    characters.removeFirst()
                }
                tokens.append(Token(kind: .identifier(name), line: line))
            default:
                throw ACLRulesParser.Failure(line: line, reason: "unexpected character \(String(character).debugDescription)")
            }
        }
        return tokens
    }
}
