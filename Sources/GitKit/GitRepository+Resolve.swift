import CLibGit2

extension GitRepository {
    /// Resolves a branch name, tag name, full reference name or full commit id to a commit.
    /// Annotated tags are peeled to the commit they point at.
    public func resolveCommit(_ name: String) throws(GitError) -> ObjectID {
        let operation = "resolve \(name)"
        if let id = ObjectID(hex: name) {
            try requireCommit(id, operation: operation)
            return id
        }
        let candidates = name.hasPrefix("refs/") ? [name] : ["refs/heads/\(name)", "refs/tags/\(name)"]
        for candidate in candidates {
            var reference: OpaquePointer?
            let code = git_reference_lookup(&reference, handle, candidate)
            if code == GIT_ENOTFOUND.rawValue || code == GIT_EINVALIDSPEC.rawValue { continue }
            try LibGit2.check(code, operation)
            defer { git_reference_free(reference) }
            var commit: OpaquePointer?
            try LibGit2.check(git_reference_peel(&commit, reference, GIT_OBJECT_COMMIT), operation)
            defer { git_object_free(commit) }
            return ObjectID(git_object_id(commit))
        }
        if let id = try revision(name, operation: operation) { return id }
        throw GitError(
            kind: .notFound, operation: operation,
            message: "no commit, branch, tag or reference named \(name) in \(path)")
    }

    /// git's revision syntax: abbreviated ids and expressions like `main~2`.
    private func revision(_ name: String, operation: String) throws(GitError) -> ObjectID? {
        var object: OpaquePointer?
        let code = git_revparse_single(&object, handle, name)
        if code == GIT_ENOTFOUND.rawValue || code == GIT_EINVALIDSPEC.rawValue { return nil }
        if code == GIT_EAMBIGUOUS.rawValue {
            throw GitError(kind: .notFound, operation: operation, message: "\(name) is ambiguous in \(path); give more of the commit id")
        }
        try LibGit2.check(code, operation)
        defer { git_object_free(object) }
        var commit: OpaquePointer?
        try LibGit2.check(git_object_peel(&commit, object, GIT_OBJECT_COMMIT), operation)
        defer { git_object_free(commit) }
        return ObjectID(git_object_id(commit))
    }

    /// Resolves a branch of the mirror (`refs/heads/<branch>`).
    public func resolveBranch(_ branch: String) throws(GitError) -> ObjectID {
        try resolveCommit("refs/heads/\(branch)")
    }

    /// Resolves a tag (`refs/tags/<tag>`), peeling annotated tags.
    public func resolveTag(_ tag: String) throws(GitError) -> ObjectID {
        try resolveCommit("refs/tags/\(tag)")
    }

    /// Names of references under a prefix such as `refs/heads/` or `refs/tags/`, without the prefix.
    public func referenceNames(under prefix: String) throws(GitError) -> [String] {
        var iterator: OpaquePointer?
        try LibGit2.check(git_reference_iterator_glob_new(&iterator, handle, prefix + "*"), "list \(prefix)")
        defer { git_reference_iterator_free(iterator) }
        var names: [String] = []
        var name: UnsafePointer<CChar>?
        while git_reference_next_name(&name, iterator) == 0, let name {
            names.append(String(String(cString: name).dropFirst(prefix.count)))
        }
        return names.sorted()
    }

    /// True when the repository holds a commit with this id.
    public func containsCommit(_ id: ObjectID) -> Bool {
        var oid = id.oid
        var commit: OpaquePointer?
        guard git_commit_lookup(&commit, handle, &oid) == 0 else { return false }
        git_commit_free(commit)
        return true
    }

    /// Metadata of one commit.
    public func commit(_ id: ObjectID) throws(GitError) -> CommitInfo {
        let commit = try lookupCommit(id, operation: "read commit \(id.short)")
        defer { git_commit_free(commit) }
        return Self.commitInfo(commit)
    }

    func requireCommit(_ id: ObjectID, operation: String) throws(GitError) {
        git_commit_free(try lookupCommit(id, operation: operation))
    }

    func lookupCommit(_ id: ObjectID, operation: String) throws(GitError) -> OpaquePointer {
        var oid = id.oid
        var commit: OpaquePointer?
        let code = git_commit_lookup(&commit, handle, &oid)
        if code == GIT_ENOTFOUND.rawValue {
            throw GitError(kind: .notFound, operation: operation, message: "no commit \(id) in \(path)", code: code)
        }
        try LibGit2.check(code, operation)
        return commit!
    }

    static func commitInfo(_ commit: OpaquePointer) -> CommitInfo {
        let parentCount = git_commit_parentcount(commit)
        let parents = (0..<parentCount).compactMap { index in git_commit_parent_id(commit, index).map(ObjectID.init) }
        let message = git_commit_message(commit).map { String(cString: $0) } ?? ""
        let summary = git_commit_summary(commit).map { String(cString: $0) } ?? ""
        return CommitInfo(
            id: ObjectID(git_commit_id(commit)),
            tree: ObjectID(git_commit_tree_id(commit)),
            parents: parents,
            author: signature(git_commit_author(commit)),
            committer: signature(git_commit_committer(commit)),
            summary: summary,
            message: message)
    }

    private static func signature(_ pointer: UnsafePointer<git_signature>?) -> GitSignature {
        guard let signature = pointer?.pointee else {
            return GitSignature(name: "", email: "", time: 0, utcOffsetMinutes: 0)
        }
        return GitSignature(
            name: signature.name.map { String(cString: $0) } ?? "",
            email: signature.email.map { String(cString: $0) } ?? "",
            time: signature.when.time,
            utcOffsetMinutes: signature.when.offset)
    }
}
