import Foundation

/// Where a secret (token, password, passphrase) comes from. Its value is never printed.
public enum SecretSource: Sendable, Hashable, CustomStringConvertible {
    /// A file whose content (without trailing newlines) is the secret.
    case file(String)
    /// An environment variable.
    case environment(String)
    /// A value given directly by the program (tests, values already read elsewhere).
    case value(String)

    public func read() throws(GitError) -> String {
        switch self {
        case .file(let path):
            guard let data = FileManager.default.contents(atPath: path) else {
                throw GitError(kind: .credentialsUnavailable, operation: "read secret", message: "cannot read secret file \(path)")
            }
            guard let text = String(data: data, encoding: .utf8) else {
                throw GitError(kind: .credentialsUnavailable, operation: "read secret", message: "secret file \(path) is not UTF-8 text")
            }
            return try Self.nonEmpty(Self.trimmed(text), origin: "secret file \(path)")
        case .environment(let name):
            guard let value = ProcessInfo.processInfo.environment[name] else {
                throw GitError(kind: .credentialsUnavailable, operation: "read secret", message: "environment variable \(name) is not set")
            }
            return try Self.nonEmpty(Self.trimmed(value), origin: "environment variable \(name)")
        case .value(let value):
            return value
        }
    }

    public var description: String {
        switch self {
        case .file(let path): "file \(path)"
        case .environment(let name): "environment variable \(name)"
        case .value: "a value given by the program"
        }
    }

    private static func trimmed(_ text: String) -> String {
        var result = Substring(text)
        while let last = result.last, last == "\n" || last == "\r" { result = result.dropLast() }
        return String(result)
    }

    private static func nonEmpty(_ text: String, origin: String) throws(GitError) -> String {
        guard !text.isEmpty else {
            throw GitError(kind: .credentialsUnavailable, operation: "read secret", message: "\(origin) is empty")
        }
        return text
    }
}
