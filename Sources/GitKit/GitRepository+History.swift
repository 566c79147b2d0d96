import CLibGit2

/// How a previously synced commit relates to the branch head now.
public enum CommitRelation: Hashable, Sendable {
    /// The head is the synced commit.
    case same
    /// The head descends from the synced commit: a diff between them is complete.
    case fastForward
    /// The synced commit is not an ancestor of the head (the branch was force-pushed):
    /// callers must compare the whole tree.
    case diverged
    /// The repository does not hold the synced commit at all (rewritten and collected, or
    /// from another repository): callers must compare the whole tree.
    case unknownCommit
}

extension GitRepository {
    /// How `synced` relates to `head`; see `CommitRelation`.
    public func relation(of synced: ObjectID, to head: ObjectID) throws(GitError) -> CommitRelation {
        if synced == head { return .same }
        guard containsCommit(synced) else { return .unknownCommit }
        var headOID = head.oid
        var syncedOID = synced.oid
        let code = git_graph_descendant_of(handle, &headOID, &syncedOID)
        try LibGit2.check(code, "compare \(synced.short) with \(head.short)")
        return code == 1 ? .fastForward : .diverged
    }

    /// How many commits `head` has that `synced` lacks (behind), and the reverse (ahead).
    public func distance(from synced: ObjectID, to head: ObjectID) throws(GitError) -> (behind: Int, ahead: Int) {
        var ahead = 0
        var behind = 0
        var syncedOID = synced.oid
        var headOID = head.oid
        try LibGit2.check(git_graph_ahead_behind(&ahead, &behind, handle, &syncedOID, &headOID), "count commits from \(synced.short) to \(head.short)")
        return (behind, ahead)
    }

    /// Commits reachable from `head`, newest first, that changed anything at one of `paths`
    /// (files or directories, relative to the repository root; an empty path means everything).
    /// A merge counts only when it differs from every parent, as `git log -- paths` shows it.
    public func commits(touching paths: [String], from head: ObjectID, limit: Int = 100) throws(GitError) -> [CommitInfo] {
        let operation = "history of \(paths.joined(separator: ", ")) from \(head.short)"
        var walker: OpaquePointer?
        try LibGit2.check(git_revwalk_new(&walker, handle), operation)
        defer { git_revwalk_free(walker) }
        try LibGit2.check(git_revwalk_sorting(walker, GIT_SORT_TOPOLOGICAL.rawValue | GIT_SORT_TIME.rawValue), operation)
        var headOID = head.oid
        try LibGit2.check(git_revwalk_push(walker, &headOID), operation)

        let trimmedPaths = paths.map(Self.trimSlashes)
        var result: [CommitInfo] = []
        var oid = git_oid()
        while result.count < limit {
            let code = git_revwalk_next(&oid, walker)
            if code == GIT_ITEROVER.rawValue { break }
            try LibGit2.check(code, operation)
            let commit = try lookupCommit(ObjectID(oid), operation: operation)
            defer { git_commit_free(commit) }
            if try touches(commit, paths: trimmedPaths, operation: operation) {
                result.append(Self.commitInfo(commit))
            }
        }
        return result
    }

    private func touches(_ commit: OpaquePointer, paths: [String], operation: String) throws(GitError) -> Bool {
        let ownIDs = try entryIDs(in: commit, paths: paths, operation: operation)
        let parentCount = git_commit_parentcount(commit)
        if parentCount == 0 { return ownIDs.contains { $0 != nil } }
        for index in 0..<parentCount {
            var parent: OpaquePointer?
            try LibGit2.check(git_commit_parent(&parent, commit, index), operation)
            defer { git_commit_free(parent) }
            if try entryIDs(in: parent!, paths: paths, operation: operation) == ownIDs { return false }
        }
        return true
    }

    private func entryIDs(in commit: OpaquePointer, paths: [String], operation: String) throws(GitError) -> [ObjectID?] {
        var tree: OpaquePointer?
        try LibGit2.check(git_commit_tree(&tree, commit), operation)
        defer { git_tree_free(tree) }
        var ids: [ObjectID?] = []
        for path in paths {
            if path.isEmpty {
                ids.append(ObjectID(git_tree_id(tree)))
                continue
            }
            var entry: OpaquePointer?
            let code = git_tree_entry_bypath(&entry, tree, path)
            if code == GIT_ENOTFOUND.rawValue {
                ids.append(nil)
                continue
            }
            try LibGit2.check(code, operation)
            ids.append(ObjectID(git_tree_entry_id(entry)))
            git_tree_entry_free(entry)
        }
        return ids
    }
}
