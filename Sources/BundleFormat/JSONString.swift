/// A JSON string as Foundation's encoder writes it: `"` and `\` escaped, the usual short
/// escapes for control characters and `\u00XX` for the others, everything else as UTF-8
/// (so `/` stays as it is). The bundle header's canonical JSON and the renderer's JSON form of
/// parsed values both write strings with it.
public enum JSONString {
    public static func append(_ text: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        let digits = Array("0123456789abcdef".utf8)
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out.append(contentsOf: #"\""#.utf8)
            case UInt8(ascii: "\\"): out.append(contentsOf: #"\\"#.utf8)
            case 0x08: out.append(contentsOf: #"\b"#.utf8)
            case 0x0C: out.append(contentsOf: #"\f"#.utf8)
            case 0x0A: out.append(contentsOf: #"\n"#.utf8)
            case 0x0D: out.append(contentsOf: #"\r"#.utf8)
            case 0x09: out.append(contentsOf: #"\t"#.utf8)
            case 0..<0x20: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "u"), 0x30, 0x30, digits[Int(byte >> 4)], digits[Int(byte & 0x0F)]])
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    /// `text` as a JSON string literal.
    public static func quoted(_ text: String) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count + 2)
        append(text, into: &out)
        return String(decoding: out, as: UTF8.self)
    }
}
