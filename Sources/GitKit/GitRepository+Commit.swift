import CLibGit2

extension GitRepository {
    /// Creates a repository with a working tree at `path` (the directory is made if needed),
    /// whose first commit will go to `initialBranch`. For the demo's local config repository;
    /// the daemon itself only ever reads mirrors.
    public static func createWorkingRepository(at path: String, initialBranch: String = "main") throws(GitError) -> GitRepository {
        LibGit2.ensureInitialized()
        let operation = "create repository \(path)"
        var options = git_repository_init_options()
        try LibGit2.check(git_repository_init_options_init(&options, UInt32(GIT_REPOSITORY_INIT_OPTIONS_VERSION)), operation)
        options.flags = GIT_REPOSITORY_INIT_MKPATH.rawValue
        var repository: OpaquePointer?
        let code = initialBranch.withCString { branch in
            options.initial_head = branch
            return git_repository_init_ext(&repository, path, &options)
        }
        try LibGit2.check(code, operation)
        guard let repository else {
            throw GitError(kind: .invalidRepository, operation: operation, message: "libgit2 returned no repository")
        }
        return GitRepository(wrapping: repository, path: path)
    }

    /// Stages every change of the working tree (new, modified and deleted files) and commits it
    /// on the current branch, as `git add -A && git commit` would. Returns the new commit.
    public func commitWorkingTree(message: String, author: String, email: String) throws(GitError) -> ObjectID {
        let operation = "commit the working tree of \(path)"
        var index: OpaquePointer?
        try LibGit2.check(git_repository_index(&index, handle), operation)
        defer { git_index_free(index) }
        try LibGit2.check(git_index_add_all(index, nil, GIT_INDEX_ADD_DEFAULT.rawValue, nil, nil), operation)
        try LibGit2.check(git_index_update_all(index, nil, nil, nil), operation)
        try LibGit2.check(git_index_write(index), operation)
        var treeID = git_oid()
        try LibGit2.check(git_index_write_tree(&treeID, index), operation)
        var tree: OpaquePointer?
        try LibGit2.check(git_tree_lookup(&tree, handle, &treeID), operation)
        defer { git_tree_free(tree) }

        var signature: UnsafeMutablePointer<git_signature>?
        try LibGit2.check(git_signature_now(&signature, author, email), operation)
        defer { git_signature_free(signature) }

        var parent: OpaquePointer?
        var parentID = git_oid()
        if git_reference_name_to_id(&parentID, handle, "HEAD") == 0 {
            try LibGit2.check(git_commit_lookup(&parent, handle, &parentID), operation)
        }
        defer { git_commit_free(parent) }
        var commitID = git_oid()
        let parents = UnsafeMutablePointer<OpaquePointer?>.allocate(capacity: 1)
        defer { parents.deallocate() }
        parents.initialize(to: parent)
        try LibGit2.check(
            git_commit_create(&commitID, handle, "HEAD", signature, signature, nil, message, tree, parent == nil ? 0 : 1, parents), operation)
        return ObjectID(commitID)
    }
}
