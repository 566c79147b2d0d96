import CLibGit2

/// Process-wide libgit2 set-up and the conversion of libgit2 return codes into `GitError`s.
enum LibGit2 {
    private static let initialized: Bool = {
        git_libgit2_init()
        return true
    }()

    static func ensureInitialized() {
        _ = initialized
    }

    /// Throws a `GitError` for a negative libgit2 return code, reading libgit2's thread-local error.
    static func check(_ code: Int32, _ operation: @autoclosure () -> String) throws(GitError) {
        guard code < 0 else { return }
        throw lastError(code: code, operation: operation())
    }

    static func lastError(code: Int32, operation: String) -> GitError {
        var message = "libgit2 reported error \(code)"
        var className: String?
        if let last = git_error_last() {
            if let text = last.pointee.message {
                message = String(cString: text)
            }
            className = errorClassName(last.pointee.klass)
        }
        return GitError(
            kind: kind(code: code, errorClass: className, message: message),
            operation: operation,
            message: message,
            code: code,
            errorClass: className
        )
    }

    private static func kind(code: Int32, errorClass: String?, message: String) -> GitError.Kind {
        let lowered = message.lowercased()
        if code == GIT_EAUTH.rawValue || lowered.contains("authentication") || lowered.contains("401")
            || lowered.contains("unauthorized")
        {
            return .authenticationFailed
        }
        if code == GIT_ENOTFOUND.rawValue { return .notFound }
        if errorClass == "net" || errorClass == "ssh" || errorClass == "ssl" || errorClass == "http" {
            return .remoteUnreachable
        }
        if code == GIT_EINVALIDSPEC.rawValue { return .notFound }
        if errorClass == "repository" || errorClass == "odb" { return .invalidRepository }
        return .libgit2
    }

    private static func errorClassName(_ klass: Int32) -> String? {
        switch git_error_t(rawValue: UInt32(klass)) {
        case GIT_ERROR_NONE: nil
        case GIT_ERROR_NOMEMORY: "memory"
        case GIT_ERROR_OS: "os"
        case GIT_ERROR_INVALID: "invalid"
        case GIT_ERROR_REFERENCE: "reference"
        case GIT_ERROR_ZLIB: "zlib"
        case GIT_ERROR_REPOSITORY: "repository"
        case GIT_ERROR_CONFIG: "config"
        case GIT_ERROR_REGEX: "regex"
        case GIT_ERROR_ODB: "odb"
        case GIT_ERROR_INDEX: "index"
        case GIT_ERROR_OBJECT: "object"
        case GIT_ERROR_NET: "net"
        case GIT_ERROR_TAG: "tag"
        case GIT_ERROR_TREE: "tree"
        case GIT_ERROR_INDEXER: "indexer"
        case GIT_ERROR_SSL: "ssl"
        case GIT_ERROR_SUBMODULE: "submodule"
        case GIT_ERROR_THREAD: "thread"
        case GIT_ERROR_STASH: "stash"
        case GIT_ERROR_CHECKOUT: "checkout"
        case GIT_ERROR_FETCHHEAD: "fetchhead"
        case GIT_ERROR_MERGE: "merge"
        case GIT_ERROR_SSH: "ssh"
        case GIT_ERROR_FILTER: "filter"
        case GIT_ERROR_REVERT: "revert"
        case GIT_ERROR_CALLBACK: "callback"
        case GIT_ERROR_CHERRYPICK: "cherrypick"
        case GIT_ERROR_DESCRIBE: "describe"
        case GIT_ERROR_REBASE: "rebase"
        case GIT_ERROR_FILESYSTEM: "filesystem"
        case GIT_ERROR_PATCH: "patch"
        case GIT_ERROR_WORKTREE: "worktree"
        case GIT_ERROR_SHA: "sha"
        case GIT_ERROR_HTTP: "http"
        case GIT_ERROR_INTERNAL: "internal"
        default: "class \(klass)"
        }
    }
}
