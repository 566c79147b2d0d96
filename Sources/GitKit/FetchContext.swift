import CLibGit2

/// State shared with libgit2's fetch callbacks through their payload pointer.
final class FetchContext {
    let credentials: ResolvedCredentials
    let progress: (@Sendable (TransferProgress) -> Void)?
    var updates: [ReferenceUpdate] = []
    /// Credential types libgit2 has asked for; asking twice for one means the answer was rejected.
    private var requestedTypes: Set<UInt32> = []
    private(set) var credentialsRejected = false
    private(set) var credentialsMissing = false

    init(credentials: ResolvedCredentials, progress: (@Sendable (TransferProgress) -> Void)?) {
        self.credentials = credentials
        self.progress = progress
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
