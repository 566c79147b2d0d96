/// An error from git2kv's git layer: what was being done, what went wrong, and what libgit2 said.
///
/// Messages never contain credentials: user info embedded in URLs is redacted before it is stored.
public struct GitError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable, Equatable {
        /// A reference, object or path that does not exist.
        case notFound
        /// The remote rejected the credentials, or asked for some and none were configured.
        case authenticationFailed
        /// The remote could not be reached (refused connection, unknown host, timeout).
        case remoteUnreachable
        /// A path in the repository that git2kv cannot handle (for example not valid UTF-8).
        case invalidPath
        /// An object of another type than expected (a blob where a tree was wanted).
        case wrongObjectType
        /// A configured credential could not be read (missing file, unset environment variable).
        case credentialsUnavailable
        /// The remote is not who it should be: an SSH host key that is unknown, changed or revoked.
        case untrustedRemote
        /// The local repository is missing, corrupt or not a repository.
        case invalidRepository
        /// Any other failure reported by libgit2.
        case libgit2
    }

    public let kind: Kind
    /// What git2kv was doing, in words: "fetch origin", "resolve refs/heads/main".
    public let operation: String
    /// libgit2's return code (0 when the error did not come from libgit2).
    public let code: Int32
    /// libgit2's error class name ("net", "http", "ssh", "reference"...), when it reported one.
    public let errorClass: String?
    public let message: String

    public init(kind: Kind, operation: String, message: String, code: Int32 = 0, errorClass: String? = nil) {
        self.kind = kind
        self.operation = URLCredentialRedaction.redact(operation)
        self.code = code
        self.errorClass = errorClass
        self.message = URLCredentialRedaction.redact(message)
    }

    public var description: String {
        var text = "git: \(operation): \(message)"
        if code != 0 {
            text += " (libgit2 code \(code)"
            if let errorClass { text += ", class \(errorClass)" }
            text += ")"
        }
        return text
    }
}
