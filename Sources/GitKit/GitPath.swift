import Foundation

/// A path inside a repository. Git stores paths as bytes, which need not be UTF-8.
public struct GitPath: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let bytes: [UInt8]

    public init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    public init(_ string: String) {
        bytes = Array(string.utf8)
    }

    init(cString: UnsafePointer<CChar>) {
        let length = strlen(cString)
        bytes = cString.withMemoryRebound(to: UInt8.self, capacity: length) {
            Array(UnsafeBufferPointer(start: $0, count: length))
        }
    }

    /// The path as a String, or nil when it is not valid UTF-8.
    public var string: String? {
        String(validating: bytes, as: UTF8.self)
    }

    /// The path as a String, or an `invalidPath` error naming it with its bad bytes escaped.
    public func requireUTF8(operation: String = "read path") throws(GitError) -> String {
        guard let string else {
            throw GitError(kind: .invalidPath, operation: operation, message: "path is not valid UTF-8: \(escaped)")
        }
        return string
    }

    /// Printable form: valid UTF-8 as is, other bytes as `\xNN`.
    public var escaped: String {
        if let string { return string }
        var result = ""
        var index = 0
        while index < bytes.count {
            let length = Self.validSequenceLength(bytes, at: index)
            if length > 0 {
                result += String(decoding: bytes[index..<index + length], as: UTF8.self)
                index += length
            } else {
                result += "\\x" + String(bytes[index], radix: 16, uppercase: true).leftPadded(to: 2)
                index += 1
            }
        }
        return result
    }

    public var description: String { escaped }

    public var isEmpty: Bool { bytes.isEmpty }

    /// The last component.
    public var lastComponent: GitPath {
        guard let slash = bytes.lastIndex(of: UInt8(ascii: "/")) else { return self }
        return GitPath(bytes: Array(bytes[(slash + 1)...]))
    }

    /// The first component, and the rest (nil when there is no slash).
    public var firstComponent: (head: GitPath, rest: GitPath?) {
        guard let slash = bytes.firstIndex(of: UInt8(ascii: "/")) else { return (self, nil) }
        return (GitPath(bytes: Array(bytes[..<slash])), GitPath(bytes: Array(bytes[(slash + 1)...])))
    }

    public func appending(_ component: GitPath) -> GitPath {
        if bytes.isEmpty { return component }
        if component.bytes.isEmpty { return self }
        return GitPath(bytes: bytes + [UInt8(ascii: "/")] + component.bytes)
    }

    public static func < (lhs: GitPath, rhs: GitPath) -> Bool {
        lhs.bytes.lexicographicallyPrecedes(rhs.bytes)
    }

    private static func validSequenceLength(_ bytes: [UInt8], at index: Int) -> Int {
        let lead = bytes[index]
        let length: Int
        switch lead {
        case 0x00...0x7F: return 1
        case 0xC2...0xDF: length = 2
        case 0xE0...0xEF: length = 3
        case 0xF0...0xF4: length = 4
        default: return 0
        }
        guard index + length <= bytes.count else { return 0 }
        let candidate = bytes[index..<index + length]
        return String(validating: candidate, as: UTF8.self) == nil ? 0 : length
    }
}

private extension String {
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
