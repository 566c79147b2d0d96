public import Secrets

/// Credentials for a remote. Descriptions name where secrets come from, never their values.
public enum GitCredentials: Sendable, Hashable, CustomStringConvertible {
    case none
    /// HTTPS basic authentication.
    case userPassword(username: String, password: SecretSource)
    /// An HTTPS access token, sent as the password of `username`.
    case token(SecretSource, username: String = "x-access-token")
    /// An SSH private key file, with an optional public key file and passphrase.
    case sshKey(username: String, privateKeyPath: String, publicKeyPath: String? = nil, passphrase: SecretSource? = nil)
    /// Keys offered by a running ssh-agent.
    case sshAgent(username: String)

    public var description: String {
        switch self {
        case .none: "no credentials"
        case .userPassword(let username, let password): "user \(username) with password from \(password)"
        case .token(let token, let username): "token from \(token) as user \(username)"
        case .sshKey(let username, let key, _, let passphrase):
            "ssh key \(key) as user \(username)" + (passphrase.map { " with passphrase from \($0)" } ?? "")
        case .sshAgent(let username): "ssh-agent as user \(username)"
        }
    }

    /// Reads every secret now, so that a missing file or variable fails before any network traffic.
    func resolve() throws(GitError) -> ResolvedCredentials {
        switch self {
        case .none:
            return .none
        case .userPassword(let username, let password):
            return .userPassword(username: username, password: try Self.read(password))
        case .token(let token, let username):
            return .userPassword(username: username, password: try Self.read(token))
        case .sshKey(let username, let privateKey, let publicKey, let passphrase):
            return .sshKey(
                username: username, privateKeyPath: privateKey, publicKeyPath: publicKey,
                passphrase: try passphrase.map(Self.read))
        case .sshAgent(let username):
            return .sshAgent(username: username)
        }
    }

    private static func read(_ source: SecretSource) throws(GitError) -> String {
        do {
            return try source.read()
        } catch {
            throw GitError(kind: .credentialsUnavailable, operation: "read secret", message: error.message)
        }
    }
}

enum ResolvedCredentials {
    case none
    case userPassword(username: String, password: String)
    case sshKey(username: String, privateKeyPath: String, publicKeyPath: String?, passphrase: String?)
    case sshAgent(username: String)

    var username: String? {
        switch self {
        case .none: nil
        case .userPassword(let username, _), .sshKey(let username, _, _, _), .sshAgent(let username): username
        }
    }
}
