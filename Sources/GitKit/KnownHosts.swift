import Crypto
import Foundation

/// An OpenSSH `known_hosts` file: which host keys are trusted for which hosts. Host patterns
/// may be plain (`host`, `[host]:port`), hashed (`|1|salt|hash`, as `ssh-keygen -H` writes
/// them) or wildcards (`*.example.com`, `!bad.example.com`); `@revoked` lines reject a key,
/// `@cert-authority` lines are not used (git2kv does not accept host certificates).
public struct KnownHosts: Sendable {
    public enum Verdict: Sendable, Equatable {
        case trusted
        /// The host is listed, but with other keys (line numbers given).
        case mismatch(lines: [Int])
        case unknown
        case revoked(line: Int)
    }

    struct Entry: Sendable {
        let line: Int
        let patterns: [String]
        let keyType: String
        let key: [UInt8]
        let revoked: Bool
    }

    public let path: String
    let entries: [Entry]

    /// Where OpenSSH looks when no file is configured.
    public static var defaultPath: String {
        (ProcessInfo.processInfo.environment["HOME"] ?? NSHomeDirectory()) + "/.ssh/known_hosts"
    }

    public init(path: String) throws(GitError) {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw GitError(
                kind: .credentialsUnavailable, operation: "check the SSH host key",
                message: "cannot read the known_hosts file \(path) (set credentials.known_hosts_file to another one)")
        }
        self.init(path: path, text: String(decoding: data, as: UTF8.self))
    }

    init(path: String, text: String) {
        self.path = path
        var entries: [Entry] = []
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            var fields = rawLine.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            guard let first = fields.first, !first.hasPrefix("#") else { continue }
            var revoked = false
            if first.hasPrefix("@") {
                guard first == "@revoked" else { continue }
                revoked = true
                fields.removeFirst()
            }
            guard fields.count >= 3, let key = Data(base64Encoded: fields[2]) else { continue }
            entries.append(
                Entry(line: index + 1, patterns: fields[0].split(separator: ",").map(String.init), keyType: fields[1], key: Array(key), revoked: revoked))
        }
        self.entries = entries
    }

    /// What the file says of `key` (the raw key blob the server sent) for `host` on `port`.
    public func verdict(host: String, port: Int, key: [UInt8]) -> Verdict {
        let name = port == 22 ? host : "[\(host)]:\(port)"
        var otherKeys: [Int] = []
        var trusted = false
        for entry in entries where Self.matches(entry.patterns, name: name) {
            if entry.key == key {
                if entry.revoked { return .revoked(line: entry.line) }
                trusted = true
            } else if !entry.revoked {
                otherKeys.append(entry.line)
            }
        }
        if trusted { return .trusted }
        return otherKeys.isEmpty ? .unknown : .mismatch(lines: otherKeys)
    }

    /// OpenSSH's rules: a negated pattern that matches excludes the line; otherwise any match counts.
    static func matches(_ patterns: [String], name: String) -> Bool {
        var matched = false
        for pattern in patterns {
            if pattern.hasPrefix("!") {
                if matchesOne(String(pattern.dropFirst()), name: name) { return false }
            } else if matchesOne(pattern, name: name) {
                matched = true
            }
        }
        return matched
    }

    private static func matchesOne(_ pattern: String, name: String) -> Bool {
        if pattern.hasPrefix("|1|") {
            let parts = pattern.split(separator: "|", omittingEmptySubsequences: true)
            guard parts.count == 3, let salt = Data(base64Encoded: String(parts[1])), let hash = Data(base64Encoded: String(parts[2])) else {
                return false
            }
            let code = HMAC<Insecure.SHA1>.authenticationCode(for: Data(name.utf8), using: SymmetricKey(data: salt))
            return Data(code) == hash
        }
        return glob(Array(pattern.lowercased().utf8)[...], Array(name.lowercased().utf8)[...])
    }

    private static func glob(_ pattern: ArraySlice<UInt8>, _ text: ArraySlice<UInt8>) -> Bool {
        guard let first = pattern.first else { return text.isEmpty }
        switch first {
        case UInt8(ascii: "*"):
            var rest = text
            while true {
                if glob(pattern.dropFirst(), rest) { return true }
                guard !rest.isEmpty else { return false }
                rest = rest.dropFirst()
            }
        case UInt8(ascii: "?"):
            return !text.isEmpty && glob(pattern.dropFirst(), text.dropFirst())
        default:
            return text.first == first && glob(pattern.dropFirst(), text.dropFirst())
        }
    }

    /// `SHA256:…` as `ssh-keygen -l` prints a key's fingerprint.
    public static func fingerprint(of key: [UInt8]) -> String {
        var base64 = Data(SHA256.hash(data: key)).base64EncodedString()
        while base64.hasSuffix("=") { base64.removeLast() }
        return "SHA256:" + base64
    }
}
