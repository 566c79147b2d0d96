import CLibGit2

extension GitRepository {
    /// Fetches every branch and tag from `url` (the mirror's configured remote when nil),
    /// pruning deleted ones. Returns the references that changed. `connected` is called once the
    /// remote has answered with its references, before any object is transferred.
    ///
    /// The fetch goes through an anonymous remote with the mirror's URL and explicit refspecs,
    /// created without `insteadOf` rewriting: a named remote's lookup in libgit2 1.5 leaks the
    /// PCRE2 match data of its `url.*.insteadOf` scan, which grew a daemon by ~330 KB per poll.
    @discardableResult
    public func fetch(
        url: String? = nil,
        credentials: GitCredentials = .none,
        trust: RemoteTrust = RemoteTrust(),
        progress: (@Sendable (TransferProgress) -> Void)? = nil,
        connected: (@Sendable () -> Void)? = nil
    ) throws(GitError) -> [ReferenceUpdate] {
        try fetch(
            url: url, resolvedCredentials: try credentials.resolve(), credentialsDescription: credentials.description, trust: trust,
            connected: connected, progress: progress)
    }

    func fetch(
        url: String?,
        resolvedCredentials: ResolvedCredentials,
        credentialsDescription: String,
        trust: RemoteTrust,
        connected: (@Sendable () -> Void)?,
        progress: (@Sendable (TransferProgress) -> Void)?
    ) throws(GitError) -> [ReferenceUpdate] {
        let configured: String
        if let url { configured = url } else { configured = try remoteURL() }
        let url = configured
        let operation = "fetch \(url)"
        // libgit2's TLS trust is process-wide; each fetch worker process serves one repo.
        if let caFile = trust.caFile { try GitTLS.trustCertificates(file: caFile) }
        let context = FetchContext(credentials: resolvedCredentials, progress: progress, trust: trust, url: url)

        var createOptions = git_remote_create_options()
        try LibGit2.check(git_remote_create_options_init(&createOptions, UInt32(GIT_REMOTE_CREATE_OPTIONS_VERSION)), operation)
        createOptions.repository = handle
        createOptions.flags = GIT_REMOTE_CREATE_SKIP_INSTEADOF.rawValue | GIT_REMOTE_CREATE_SKIP_DEFAULT_FETCHSPEC.rawValue
        var remote: OpaquePointer?
        try LibGit2.check(git_remote_create_with_opts(&remote, url, &createOptions), operation)
        defer { git_remote_free(remote) }

        var options = git_fetch_options()
        try LibGit2.check(git_fetch_options_init(&options, UInt32(GIT_FETCH_OPTIONS_VERSION)), operation)
        options.prune = GIT_FETCH_PRUNE
        options.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_ALL
        options.update_fetchhead = 0

        let code = withExtendedLifetime(context) {
            FetchCallbacks.install(on: &options.callbacks, context: Unmanaged.passUnretained(context).toOpaque())
            let connectCode = git_remote_connect(remote, GIT_DIRECTION_FETCH, &options.callbacks, &options.proxy_opts, nil)
            guard connectCode >= 0 else { return connectCode }
            connected?()
            return Self.mirrorRefspecs.withStrArray { refspecs in git_remote_fetch(remote, refspecs, &options, "git2kv fetch") }
        }
        if code < 0 {
            let error = LibGit2.lastError(code: code, operation: operation)
            if let problem = context.hostKeyProblem {
                throw GitError(kind: .untrustedRemote, operation: operation, message: problem, code: error.code, errorClass: error.errorClass)
            }
            if context.credentialsRejected {
                throw GitError(
                    kind: .authenticationFailed, operation: operation,
                    message: "the remote rejected the configured credentials (\(credentialsDescription))" + SSHKeyKind.rejectionHint(for: resolvedCredentials),
                    code: error.code, errorClass: error.errorClass)
            }
            if context.credentialsMissing {
                throw GitError(
                    kind: .authenticationFailed, operation: operation,
                    message: "the remote asked for credentials and none that fit are configured (have: \(credentialsDescription))",
                    code: error.code, errorClass: error.errorClass)
            }
            throw Self.classifyTransportError(error)
        }
        return context.updates
    }

    static let mirrorRefspecs = ["+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*"]

    /// Socket, TLS, HTTP and SSH failures during a fetch mean the remote could not be reached.
    private static func classifyTransportError(_ error: GitError) -> GitError {
        guard error.kind == .libgit2 || error.kind == .remoteUnreachable,
            let errorClass = error.errorClass, ["os", "net", "http", "ssl", "ssh"].contains(errorClass)
        else { return error }
        return GitError(
            kind: .remoteUnreachable, operation: error.operation, message: error.message, code: error.code,
            errorClass: error.errorClass)
    }
}
