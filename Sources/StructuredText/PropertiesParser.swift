/// Java .properties: `key=value`, `key: value` or `key value`; `#` and `!` comments; a trailing
/// backslash continues the line; `\` escapes in keys and values.
public enum PropertiesParser {
    /// (key, value) pairs in file order; a key may repeat.
    public static func parse(_ text: String) -> [(String, String)] {
        var result: [(String, String)] = []
        var logical = ""
        for rawLine in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" || $0 == "\r" }) {
            var line = String(rawLine)
            if logical.isEmpty {
                line = String(line.drop { $0 == " " || $0 == "\t" })
                if line.isEmpty || line.hasPrefix("#") || line.hasPrefix("!") { continue }
            } else {
                line = String(line.drop { $0 == " " || $0 == "\t" })
            }
            let trailingBackslashes = line.reversed().prefix { $0 == "\\" }.count
            if trailingBackslashes % 2 == 1 {
                logical += line.dropLast()
                continue
            }
            logical += line
            result.append(split(logical))
            logical = ""
        }
        if !logical.isEmpty { result.append(split(logical)) }
        return result
    }

    private static func split(_ line: String) -> (String, String) {
        var key = ""
        var index = line.startIndex
        var escaped = false
        while index < line.endIndex {
            let character = line[index]
            if escaped {
                key.append(unescape(character))
                escaped = false
            } else if character == "\\" {
                escaped = true
            } else if character == "=" || character == ":" || character == " " || character == "\t" {
                break
            } else {
                key.append(character)
            }
            index = line.index(after: index)
        }
        var rest = line[index...].drop { $0 == " " || $0 == "\t" }
        if let first = rest.first, first == "=" || first == ":" { rest = rest.dropFirst().drop { $0 == " " || $0 == "\t" } }
        var value = ""
        escaped = false
        for character in rest {
            if escaped {
                value.append(unescape(character))
                escaped = false
            } else if character == "\\" {
                escaped = true
            } else {
                value.append(character)
            }
        }
        return (key, value)
    }

    private static func unescape(_ character: Character) -> Character {
        switch character {
        case "n": "\n"
        case "t": "\t"
        case "r": "\r"
        default: character
        }
    }
}
