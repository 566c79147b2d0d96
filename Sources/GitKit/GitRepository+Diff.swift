import CLibGit2

/// How a diff pairs a deleted path with an added one.
public enum RenameDetection: Sendable {
    /// Report deletions and additions as they are.
    case none
    /// Pair paths with identical content (cheap: compares ids only).
    case exact
    /// Also pair paths with similar content, as `git diff -M` does (reads the blobs).
    case similar
}

extension GitRepository {
    /// The changes under `path` from one commit to another, with paths relative to `path`.
    ///
    /// `old` nil compares against an empty tree (everything is added). Renames are detected
    /// (exact and similar content); type changes (file ↔ symlink ↔ submodule) and mode changes
    /// are reported as such.
    public func diff(
        from old: ObjectID?, to new: ObjectID, under path: String = "", renames: RenameDetection = .exact
    ) throws(GitError) -> [DiffDelta] {
        let operation = "diff \(old?.short ?? "empty") → \(new.short) under \(path.isEmpty ? "/" : path)"
        let oldTreeID = try old.flatMap { commit throws(GitError) in try treeID(of: commit, at: path) }
        let newTreeID = try treeID(of: new, at: path)
        return try diffTrees(from: oldTreeID, to: newTreeID, renames: renames, operation: operation)
    }

    /// The changes from one tree to another (either may be nil for an empty tree).
    public func diffTrees(
        from oldTree: ObjectID?, to newTree: ObjectID?, renames: RenameDetection = .exact, operation: String? = nil
    ) throws(GitError) -> [DiffDelta] {
        let operation = operation ?? "diff trees \(oldTree?.short ?? "empty") → \(newTree?.short ?? "empty")"
        if oldTree == newTree { return [] }
        guard renames == .similar else {
            var comparison = TreeComparison(repository: handle, operation: operation)
            try comparison.compare(oldTree, newTree)
            if renames == .exact { comparison.pairExactRenames() }
            return comparison.deltas
        }
        return try libgit2Diff(from: oldTree, to: newTree, operation: operation)
    }

    /// libgit2's diff with similarity-based rename detection; it reads every subtree.
    private func libgit2Diff(from oldTree: ObjectID?, to newTree: ObjectID?, operation: String) throws(GitError) -> [DiffDelta] {
        let oldPointer = try oldTree.map { id throws(GitError) in try lookupTree(id, operation: operation) }
        defer { git_tree_free(oldPointer) }
        let newPointer = try newTree.map { id throws(GitError) in try lookupTree(id, operation: operation) }
        defer { git_tree_free(newPointer) }

        var options = git_diff_options()
        try LibGit2.check(git_diff_options_init(&options, UInt32(GIT_DIFF_OPTIONS_VERSION)), operation)
        options.flags |= GIT_DIFF_INCLUDE_TYPECHANGE.rawValue

        var diff: OpaquePointer?
        try LibGit2.check(git_diff_tree_to_tree(&diff, handle, oldPointer, newPointer, &options), operation)
        defer { git_diff_free(diff) }

        do {
            var findOptions = git_diff_find_options()
            try LibGit2.check(git_diff_find_options_init(&findOptions, UInt32(GIT_DIFF_FIND_OPTIONS_VERSION)), operation)
            findOptions.flags = GIT_DIFF_FIND_RENAMES.rawValue
            try LibGit2.check(git_diff_find_similar(diff, &findOptions), operation)
        }

        return (0..<git_diff_num_deltas(diff)).compactMap { index in
            git_diff_get_delta(diff, index).flatMap { Self.delta($0.pointee) }
        }
    }

    private static func delta(_ delta: git_diff_delta) -> DiffDelta? {
        let status: DiffStatus
        switch delta.status {
        case GIT_DELTA_ADDED, GIT_DELTA_COPIED: status = .added
        case GIT_DELTA_DELETED: status = .deleted
        case GIT_DELTA_MODIFIED: status = .modified
        case GIT_DELTA_RENAMED: status = .renamed(similarity: Int(delta.similarity))
        case GIT_DELTA_TYPECHANGE: status = .typeChanged
        default: return nil
        }
        let hasOld = status != .added
        let hasNew = status != .deleted
        return DiffDelta(
            status: status,
            oldPath: hasOld ? delta.old_file.path.map(GitPath.init(cString:)) : nil,
            newPath: hasNew ? delta.new_file.path.map(GitPath.init(cString:)) : nil,
            oldMode: hasOld ? UInt32(delta.old_file.mode) : 0,
            newMode: hasNew ? UInt32(delta.new_file.mode) : 0,
            oldID: hasOld ? ObjectID(delta.old_file.id) : nil,
            newID: hasNew ? ObjectID(delta.new_file.id) : nil)
    }
}
