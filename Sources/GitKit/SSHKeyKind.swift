import Foundation

/// Tells RSA user keys apart: OpenSSH 8.8 and later refuse their `ssh-rsa` (SHA-1) signatures,
/// and libssh2 1.10 (Debian 12's, under libgit2) signs with nothing else, so the server's
/// refusal reads like wrong credentials. The error then says what is really going on.
enum SSHKeyKind {
    static func rejectionHint(for credentials: ResolvedCredentials) -> String {
        guard case .sshKey(_, let privateKey, let publicKey, _) = credentials, isRSA(privateKey: privateKey, publicKey: publicKey) else {
            return ""
        }
        return "; the key is RSA: OpenSSH 8.8 and later refuse ssh-rsa signatures, the only kind libssh2 before 1.11 (Debian 12 has 1.10) makes for user keys."
            + " Use an ed25519 or ECDSA key, or let the server accept ssh-rsa (PubkeyAcceptedAlgorithms +ssh-rsa)"
    }

    static func isRSA(privateKey: String, publicKey: String?) -> Bool {
        if let text = read(publicKey ?? privateKey + ".pub") { return text.hasPrefix("ssh-rsa ") }
        guard let text = read(privateKey) else { return false }
        if text.contains("BEGIN RSA PRIVATE KEY") { return true }
        guard text.contains("BEGIN OPENSSH PRIVATE KEY") else { return false }
        let body = text.split(separator: "\n").filter { !$0.hasPrefix("-----") }.joined()
        guard let decoded = Data(base64Encoded: body) else { return false }
        // The public key's type comes first after the header: "ssh-rsa" among its first bytes.
        return decoded.prefix(128).range(of: Data("ssh-rsa".utf8)) != nil
    }

    private static func read(_ path: String) -> String? {
        FileManager.default.contents(atPath: path).map { String(decoding: $0, as: UTF8.self) }
    }
}
