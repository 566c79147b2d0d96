import CLibGit2

/// State shared with libgit2's fetch callbacks through their payload pointer.
final class FetchContext {
    let credentials: ResolvedCredentials
    let progress: (@Sendable (TransferProgress) -> Void)?
    let trust: RemoteTrust
    let url: String
    var updates: [ReferenceUpdate] = []
    /// Why the SSH host key was refused, when it was.
    private(set) var hostKeyProblem: String?
    /// Credential types libgit2 has asked for; asking twice for one means the answer was rejected.
    private var requestedTypes: Set<UInt32> = []
    private(set) var credentialsRejected = false
    private(set) var credentialsMissing = false

    init(credentials: ResolvedCredentials, progress: (@Sendable (TransferProgress) -> Void)?, trust: RemoteTrust = RemoteTrust(), url: String = "") {
        self.credentials = credentials
        self.progress = progress
        self.trust = trust
        self.url = url
    }

    /// SSH host keys are checked against the configured known_hosts file (libgit2's own check
    /// reads only ~/.ssh/known_hosts and says little when it fails); TLS certificates are left to
    /// libgit2, which checks them against the configured CA file.
    func checkCertificate(_ certificate: UnsafeMutablePointer<git_cert>?, host: String?) -> Int32 {
        guard let certificate, certificate.pointee.cert_type == GIT_CERT_HOSTKEY_LIBSSH2 else { return GIT_PASSTHROUGH.rawValue }
        let hostKey = UnsafeRawPointer(certificate).assumingMemoryBound(to: git_cert_hostkey.self).pointee
        let address = SSHAddress.hostAndPort(of: url) ?? (host ?? "?", 22)
        let shown = address.port == 22 ? address.host : "\(address.host):\(address.port)"
        guard hostKey.type.rawValue & GIT_CERT_SSH_RAW.rawValue != 0, let raw = hostKey.hostkey else {
            hostKeyProblem = "the SSH server \(shown) sent no host key git2kv can check"
            return GIT_ECERTIFICATE.rawValue
        }
        let key = Array(UnsafeRawBufferPointer(start: UnsafeRawPointer(raw), count: hostKey.hostkey_len))
        let described = "\(Self.keyType(key)) \(KnownHosts.fingerprint(of: key))"
        let path = trust.knownHostsPath
        let knownHosts: KnownHosts
        do {
            knownHosts = try KnownHosts(path: path)
        } catch {
            hostKeyProblem = "cannot check the host key of \(shown) (\(described)): \(error.message)"
            return GIT_ECERTIFICATE.rawValue
        }
        let name = address.port == 22 ? address.host : "[\(address.host)]:\(address.port)"
        switch knownHosts.verdict(host: address.host, port: address.port, key: key) {
        case .trusted:
            return 0
        case .unknown:
            hostKeyProblem =
                "the SSH host key of \(shown) (\(described)) is not in \(path); after checking that fingerprint with the server's owner, add it: ssh-keyscan\(address.port == 22 ? "" : " -p \(address.port)") \(address.host) >> \(path)"
        case .mismatch(let lines):
            hostKeyProblem =
                "the SSH host key of \(shown) (\(described)) does not match the one for \(name) in \(path) (line \(lines.map(String.init).joined(separator: ", "))): the server's key changed, or something is in between; the fetch was refused"
        case .revoked(let line):
            hostKeyProblem = "the SSH host key of \(shown) (\(described)) is marked @revoked in \(path) line \(line); the fetch was refused"
        }
        return GIT_ECERTIFICATE.rawValue
    }

    /// The key type named inside an SSH key blob (`ssh-ed25519`, `ssh-rsa`, ...).
    static func keyType(_ blob: [UInt8]) -> String {
        guard blob.count >= 4 else { return "unknown key" }
        let length = Int(blob[0]) << 24 | Int(blob[1]) << 16 | Int(blob[2]) << 8 | Int(blob[3])
        guard length > 0, length <= 64, blob.count >= 4 + length else { return "unknown key" }
        return String(decoding: blob[4..<(4 + length)], as: UTF8.self)
    }

    func acquireCredential(
        _ out: UnsafeMutablePointer<UnsafeMutablePointer<git_credential>?>?,
        usernameFromURL: String?,
        allowedTypes: UInt32
    ) -> Int32 {
        guard let out else { return GIT_ERROR.rawValue }
        let type = chooseType(allowedTypes)
        guard let type else {
            credentialsMissing = true
            return GIT_PASSTHROUGH.rawValue
        }
        if requestedTypes.contains(type) {
            credentialsRejected = true
            return GIT_EAUTH.rawValue
        }
        requestedTypes.insert(type)
        let username = credentials.username ?? usernameFromURL ?? "git"
        switch (credentials, type) {
        case (_, GIT_CREDENTIAL_USERNAME.rawValue):
            return git_credential_username_new(out, username)
        case (.userPassword(_, let password), GIT_CREDENTIAL_USERPASS_PLAINTEXT.rawValue):
            return git_credential_userpass_plaintext_new(out, username, password)
        case (.sshKey(_, let privateKey, let publicKey, let passphrase), GIT_CREDENTIAL_SSH_KEY.rawValue):
            return git_credential_ssh_key_new(out, username, publicKey, privateKey, passphrase)
        case (.sshAgent, GIT_CREDENTIAL_SSH_KEY.rawValue):
            return git_credential_ssh_key_from_agent(out, username)
        default:
            credentialsMissing = true
            return GIT_PASSTHROUGH.rawValue
        }
    }

    private func chooseType(_ allowed: UInt32) -> UInt32? {
        func allows(_ type: git_credential_t) -> Bool { allowed & type.rawValue != 0 }
        switch credentials {
        case .none:
            return nil
        case .userPassword:
            return allows(GIT_CREDENTIAL_USERPASS_PLAINTEXT) ? GIT_CREDENTIAL_USERPASS_PLAINTEXT.rawValue : nil
        case .sshKey, .sshAgent:
            if allows(GIT_CREDENTIAL_SSH_KEY) { return GIT_CREDENTIAL_SSH_KEY.rawValue }
            if allows(GIT_CREDENTIAL_USERNAME) { return GIT_CREDENTIAL_USERNAME.rawValue }
            return nil
        }
    }
}

enum FetchCallbacks {
    static func install(on callbacks: inout git_remote_callbacks, context: UnsafeMutableRawPointer) {
        callbacks.payload = context
        callbacks.credentials = { out, _, usernameFromURL, allowedTypes, payload in
            guard let payload else { return GIT_ERROR.rawValue }
            let context = Unmanaged<FetchContext>.fromOpaque(payload).takeUnretainedValue()
            return context.acquireCredential(
                out, usernameFromURL: usernameFromURL.map { String(cString: $0) }, allowedTypes: allowedTypes)
        }
        callbacks.certificate_check = { certificate, _, host, payload in
            guard let payload else { return GIT_PASSTHROUGH.rawValue }
            let context = Unmanaged<FetchContext>.fromOpaque(payload).takeUnretainedValue()
            return context.checkCertificate(certificate, host: host.map { String(cString: $0) })
        }
        callbacks.transfer_progress = { stats, payload in
            guard let stats, let payload else { return 0 }
            let context = Unmanaged<FetchContext>.fromOpaque(payload).takeUnretainedValue()
            context.progress?(
                TransferProgress(
                    totalObjects: Int(stats.pointee.total_objects),
                    receivedObjects: Int(stats.pointee.received_objects),
                    indexedObjects: Int(stats.pointee.indexed_objects),
                    localObjects: Int(stats.pointee.local_objects),
                    receivedBytes: Int(stats.pointee.received_bytes)))
            return 0
        }
        callbacks.update_tips = { name, old, new, payload in
            guard let name, let payload else { return 0 }
            let context = Unmanaged<FetchContext>.fromOpaque(payload).takeUnretainedValue()
            context.updates.append(
                ReferenceUpdate(
                    name: String(cString: name),
                    oldID: old.map(ObjectID.init).flatMap { $0.isZero ? nil : $0 },
                    newID: new.map(ObjectID.init).flatMap { $0.isZero ? nil : $0 }))
            return 0
        }
    }
}

extension ObjectID {
    var isZero: Bool { bytes.allSatisfy { $0 == 0 } }
}
