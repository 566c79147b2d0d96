/// Resolved credentials as they travel to a fetch worker through its standard input.
struct WireCredentials: Codable {
    var kind: String
    var username: String?
    var password: String?
    var privateKeyPath: String?
    var publicKeyPath: String?
    var passphrase: String?

    init(_ credentials: ResolvedCredentials) {
        switch credentials {
        case .none:
            kind = "none"
        case .userPassword(let username, let password):
            kind = "password"
            self.username = username
            self.password = password
        case .sshKey(let username, let privateKeyPath, let publicKeyPath, let passphrase):
            kind = "ssh-key"
            self.username = username
            self.privateKeyPath = privateKeyPath
            self.publicKeyPath = publicKeyPath
            self.passphrase = passphrase
        case .sshAgent(let username):
            kind = "ssh-agent"
            self.username = username
        }
    }

    var resolved: ResolvedCredentials {
        switch kind {
        case "password": .userPassword(username: username ?? "", password: password ?? "")
        case "ssh-key": .sshKey(username: username ?? "git", privateKeyPath: privateKeyPath ?? "", publicKeyPath: publicKeyPath, passphrase: passphrase)
        case "ssh-agent": .sshAgent(username: username ?? "git")
        default: .none
        }
    }
}

/// One line of a fetch worker's output.
struct WireEvent: Codable {
    struct Update: Codable {
        var name: String
        var old: String?
        var new: String?
    }

    struct Failure: Codable {
        var kind: String
        var operation: String
        var message: String
        var code: Int32
        var errorClass: String?
    }

    var event: String
    var total: Int?
    var received: Int?
    var indexed: Int?
    var local: Int?
    var bytes: Int?
    var updates: [Update]?
    var error: Failure?

    init(_ event: FetchWorkerEvent) {
        switch event {
        case .started:
            self.event = "started"
        case .connected:
            self.event = "connected"
        case .progress(let progress):
            self.event = "progress"
            total = progress.totalObjects
            received = progress.receivedObjects
            indexed = progress.indexedObjects
            local = progress.localObjects
            bytes = progress.receivedBytes
        case .finished(let updates):
            self.event = "finished"
            self.updates = updates.map { Update(name: $0.name, old: $0.oldID?.hex, new: $0.newID?.hex) }
        case .failed(let error):
            self.event = "failed"
            self.error = Failure(
                kind: error.kind.rawValue, operation: error.operation, message: error.message, code: error.code, errorClass: error.errorClass)
        }
    }

    var decoded: FetchWorkerEvent? {
        switch event {
        case "started":
            return .started
        case "connected":
            return .connected
        case "progress":
            return .progress(
                TransferProgress(
                    totalObjects: total ?? 0, receivedObjects: received ?? 0, indexedObjects: indexed ?? 0, localObjects: local ?? 0,
                    receivedBytes: bytes ?? 0))
        case "finished":
            return .finished((updates ?? []).map { ReferenceUpdate(name: $0.name, oldID: $0.old.flatMap(ObjectID.init(hex:)), newID: $0.new.flatMap(ObjectID.init(hex:))) })
        case "failed":
            guard let error else { return nil }
            return .failed(
                GitError(
                    kind: GitError.Kind(rawValue: error.kind) ?? .libgit2, operation: error.operation, message: error.message, code: error.code,
                    errorClass: error.errorClass))
        default:
            return nil
        }
    }
}
