import Foundation

/// Where a secret (token, password, passphrase, webhook secret) comes from. Its value is never printed.
public enum SecretSource: Sendable, Hashable, CustomStringConvertible {
    /// A file whose content (without trailing newlines) is the secret.
    case file(String)
    /// An environment variable.
    case environment(String)
    /// A value given directly by the program (tests, values already read elsewhere).
    case value(String)

    public func read() throws(SecretError) -> String {
        switch self {
        case .file(let path):
            guard let data = FileManager.default.contents(atPath: path) else {
                throw SecretError(message: "cannot read secret file \(path)")
            }
            guard let text = String(data: data, encoding: .utf8) else {
                throw SecretError(message: "secret file \(path) is not UTF-8 text")
            }
            return try Self.nonEmpty(Self.trimmed(text), origin: "secret file \(path)")
        case .environment(let name):
            guard let value = ProcessInfo.processInfo.environment[name] else {
                throw SecretError(message: "environment variable \(name) is not set")
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

    private static func nonEmpty(_ text: String, origin: String) throws(SecretError) -> String {
        guard !text.isEmpty else { throw SecretError(message: "\(origin) is empty") }
        return text
    }
}

/// A secret could not be read: says from where, never what it holds.
public struct SecretError: Error, Sendable, Equatable, CustomStringConvertible {
    public let message: String

    public init(message: String) { self.message = message }

    public var description: String { message }
}
