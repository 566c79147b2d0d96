/// Builds a `git fast-import` input stream.
struct FastImportStream {
    private(set) var bytes: [UInt8] = []

    mutating func line(_ text: String) {
        bytes += Array(text.utf8)
        bytes.append(UInt8(ascii: "\n"))
    }

    mutating func data(_ content: [UInt8]) {
        line("data \(content.count)")
        bytes += content
        bytes.append(UInt8(ascii: "\n"))
    }

    mutating func append(_ change: FixtureChange) {
        switch change {
        case .write(let path, let content, let executable):
            fileLine(mode: executable ? "100755" : "100644", path: Array(path.utf8))
            data(content)
        case .writeBytesPath(let path, let content):
            fileLine(mode: "100644", path: path)
            data(content)
        case .symlink(let path, let target):
            fileLine(mode: "120000", path: Array(path.utf8))
            data(Array(target.utf8))
        case .submodule(let path, let commit):
            bytes += Array("M 160000 \(commit) ".utf8) + Self.quoted(Array(path.utf8))
            bytes.append(UInt8(ascii: "\n"))
        case .delete(let path):
            bytes += Array("D ".utf8) + Self.quoted(Array(path.utf8))
            bytes.append(UInt8(ascii: "\n"))
        case .rename(let from, let to):
            bytes += Array("R ".utf8) + Self.quoted(Array(from.utf8)) + [UInt8(ascii: " ")] + Self.quoted(Array(to.utf8))
            bytes.append(UInt8(ascii: "\n"))
        }
    }

    private mutating func fileLine(mode: String, path: [UInt8]) {
        bytes += Array("M \(mode) inline ".utf8) + Self.quoted(path)
        bytes.append(UInt8(ascii: "\n"))
    }

    /// C-style quoting, which fast-import accepts for any path, with octal escapes for other bytes.
    static func quoted(_ path: [UInt8]) -> [UInt8] {
        var result: [UInt8] = [UInt8(ascii: "\"")]
        for byte in path {
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"):
                result += [UInt8(ascii: "\\"), byte]
            case 0x20...0x7E:
                result.append(byte)
            default:
                let octal = String(byte, radix: 8)
                result += Array(("\\" + String(repeating: "0", count: 3 - octal.count) + octal).utf8)
            }
        }
        result.append(UInt8(ascii: "\""))
        return result
    }
}
