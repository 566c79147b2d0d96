/// The header's canonical JSON written directly: the same bytes as `CanonicalJSON.encode`
/// (sorted keys, no whitespace, `/` unescaped), without the generic encoder's cost, which was
/// most of the time to encode a bundle of many small files.
extension BundleHeader {
    func canonicalJSON() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(512 + files.count * 160)
        out.append(contentsOf: #"{"commit":{"author":"#.utf8)
        Self.string(commit.author, into: &out)
        out.append(contentsOf: #","email":"#.utf8)
        Self.string(commit.email, into: &out)
        out.append(contentsOf: #","id":"#.utf8)
        Self.string(commit.id, into: &out)
        out.append(contentsOf: #","summary":"#.utf8)
        Self.string(commit.summary, into: &out)
        out.append(contentsOf: #","time":"#.utf8)
        out.append(contentsOf: String(commit.time).utf8)
        out.append(contentsOf: #"},"digest":"#.utf8)
        Self.string(digest, into: &out)
        out.append(contentsOf: #","files":["#.utf8)
        for (position, file) in files.enumerated() {
            if position > 0 { out.append(UInt8(ascii: ",")) }
            out.append(contentsOf: #"{"mode":"#.utf8)
            Self.string(file.mode.rawValue, into: &out)
            out.append(contentsOf: #","path":"#.utf8)
            Self.string(file.path, into: &out)
            out.append(contentsOf: #","sha256":"#.utf8)
            Self.string(file.sha256, into: &out)
            out.append(contentsOf: #","size":"#.utf8)
            out.append(contentsOf: String(file.size).utf8)
            out.append(UInt8(ascii: "}"))
        }
        out.append(contentsOf: #"],"source":{"branch":"#.utf8)
        Self.string(source.branch, into: &out)
        out.append(contentsOf: #","path":"#.utf8)
        Self.string(source.path, into: &out)
        out.append(contentsOf: #","repo":"#.utf8)
        Self.string(source.repo, into: &out)
        out.append(contentsOf: "}}".utf8)
        return out
    }

    /// A JSON string as Foundation's encoder writes it: `"` and `\` escaped, the usual short
    /// escapes for control characters and `\u00XX` for the others, everything else as UTF-8.
    private static func string(_ text: String, into out: inout [UInt8]) {
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
}
