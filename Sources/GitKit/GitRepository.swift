import CLibGit2
import Foundation

/// A local git repository, usually a bare mirror of one remote.
///
/// Each instance owns one libgit2 handle and runs every call on its own serial queue: libgit2
/// handles must not be shared between threads, and network and disk calls block.
public actor GitRepository {
    public static let remoteName = "origin"

    private let executor: GitQueueExecutor
    private let owner: RepositoryHandle
    public nonisolated let path: String

    var handle: OpaquePointer { owner.pointer }

    public nonisolated var unownedExecutor: UnownedSerialExecutor {
        executor.asUnownedSerialExecutor()
    }

    /// Opens an existing repository (bare or not) at `path`.
    public init(openingAt path: String) throws(GitError) {
        LibGit2.ensureInitialized()
        var repository: OpaquePointer?
        let code = git_repository_open_ext(&repository, path, GIT_REPOSITORY_OPEN_NO_SEARCH.rawValue, nil)
        if code < 0 {
            let error = LibGit2.lastError(code: code, operation: "open repository \(path)")
            throw GitError(
                kind: code == GIT_ENOTFOUND.rawValue ? .invalidRepository : error.kind,
                operation: error.operation, message: error.message, code: error.code, errorClass: error.errorClass)
        }
        self.init(handle: repository!, path: path)
    }

    init(wrapping handle: OpaquePointer, path: String) {
        self.init(handle: handle, path: path)
    }

    private init(handle: OpaquePointer, path: String) {
        owner = RepositoryHandle(handle)
        self.path = path
        executor = GitQueueExecutor(label: "git2kv.git.\(path)")
    }

    /// Opens the bare mirror at `path`, creating it (and pointing its remote at `remoteURL`) when
    /// it does not exist yet. An existing mirror whose remote moved is re-pointed.
    /// Branches are fetched to `refs/heads/*` and tags to `refs/tags/*`. The config stores the URL
    /// without user info and is readable by the owner only: fetches are given the full URL.
    public static func openOrCreateMirror(at path: String, remoteURL: String) throws(GitError) -> GitRepository {
        LibGit2.ensureInitialized()
        let operation = "prepare mirror \(path) of \(remoteURL)"
        var repository: OpaquePointer?
        if git_repository_open_bare(&repository, path) < 0 {
            try LibGit2.check(git_repository_init(&repository, path, 1), operation)
        }
        guard let repository else {
            throw GitError(kind: .invalidRepository, operation: operation, message: "libgit2 returned no repository")
        }
        do {
            try configureRemote(of: repository, url: URLCredentialRedaction.withoutUserInfo(remoteURL), operation: operation)
            try restrictConfig(of: path, operation: operation)
        } catch {
            git_repository_free(repository)
            throw error
        }
        return GitRepository(handle: repository, path: path)
    }

    /// Points the mirror's `origin` at `url`, creating it on first use. Reads the URL from the
    /// config instead of looking the remote up: libgit2 1.5's remote lookup evaluates
    /// `url.*.insteadOf` with a regular expression whose PCRE2 match data it never frees
    /// (about 100 KB per lookup, so per poll), see `fetch`.
    private static func configureRemote(of repository: OpaquePointer, url: String, operation: String) throws(GitError) {
        if let current = try configuredURL(of: repository, operation: operation) {
            if current != url { try LibGit2.check(git_remote_set_url(repository, remoteName, url), operation) }
            return
        }
        var remote: OpaquePointer?
        defer { git_remote_free(remote) }
        try LibGit2.check(
            git_remote_create_with_fetchspec(&remote, repository, remoteName, url, "+refs/heads/*:refs/heads/*"),
            operation)
        try LibGit2.check(git_remote_add_fetch(repository, remoteName, "+refs/tags/*:refs/tags/*"), operation)
    }

    /// Makes the mirror's config owner-only: it names the remote and may hold other settings an
    /// operator would not publish.
    private static func restrictConfig(of path: String, operation: String) throws(GitError) {
        let config = path + "/config"
        var status = stat()
        guard stat(config, &status) == 0 else { return }
        guard status.st_mode & 0o077 != 0 else { return }
        guard chmod(config, 0o600) == 0 else {
            throw GitError(kind: .invalidRepository, operation: operation, message: "cannot make \(config) owner-only: \(String(cString: strerror(errno)))")
        }
    }

    /// `remote.origin.url` from the repository's config; nil when it has none.
    static func configuredURL(of repository: OpaquePointer, operation: String) throws(GitError) -> String? {
        var config: OpaquePointer?
        try LibGit2.check(git_repository_config_snapshot(&config, repository), operation)
        defer { git_config_free(config) }
        var buffer = git_buf()
        defer { git_buf_dispose(&buffer) }
        let code = git_config_get_string_buf(&buffer, config, "remote.\(remoteName).url")
        if code == GIT_ENOTFOUND.rawValue { return nil }
        try LibGit2.check(code, operation)
        return buffer.ptr.map { String(cString: $0) }
    }

    /// The URL the mirror fetches from.
    public func remoteURL() throws(GitError) -> String {
        try Self.configuredURL(of: handle, operation: "read the URL of remote \(Self.remoteName)") ?? ""
    }
}
