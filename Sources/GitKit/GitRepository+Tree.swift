import CLibGit2

extension GitRepository {
    /// The id of the tree at `path` in a commit (the root tree for an empty path);
    /// nil when the commit has nothing at that path. A file at that path is an error, or nil
    /// with `ifDirectory`.
    public func treeID(of commit: ObjectID, at path: String, ifDirectory: Bool = false) throws(GitError) -> ObjectID? {
        let operation = "find \(path.isEmpty ? "root" : path) in \(commit.short)"
        let commitPointer = try lookupCommit(commit, operation: operation)
        defer { git_commit_free(commitPointer) }
        let rootID = ObjectID(git_commit_tree_id(commitPointer))
        let trimmed = Self.trimSlashes(path)
        if trimmed.isEmpty { return rootID }

        var root: OpaquePointer?
        try LibGit2.check(git_commit_tree(&root, commitPointer), operation)
        defer { git_tree_free(root) }
        var entry: OpaquePointer?
        let code = git_tree_entry_bypath(&entry, root, trimmed)
        if code == GIT_ENOTFOUND.rawValue { return nil }
        try LibGit2.check(code, operation)
        defer { git_tree_entry_free(entry) }
        guard git_tree_entry_type(entry) == GIT_OBJECT_TREE else {
            if ifDirectory { return nil }
            throw GitError(kind: .wrongObjectType, operation: operation, message: "\(trimmed) is not a directory")
        }
        return ObjectID(git_tree_entry_id(entry))
    }

    /// The entries directly in a tree (not recursive); directories are listed as `.directory`.
    public func listTree(_ tree: ObjectID) throws(GitError) -> [TreeEntry] {
        let pointer = try lookupTree(tree, operation: "list tree \(tree.short)")
        defer { git_tree_free(pointer) }
        return (0..<git_tree_entrycount(pointer)).map { index in
            Self.entry(git_tree_entry_byindex(pointer, index), prefix: GitPath(bytes: []))
        }
    }

    /// Every file, symlink and submodule under a tree, recursively, with paths relative to it.
    /// Symlinks and submodules are reported, never followed.
    public func walkTree(_ tree: ObjectID) throws(GitError) -> [TreeEntry] {
        var result: [TreeEntry] = []
        try walk(tree, prefix: GitPath(bytes: []), into: &result)
        return result
    }

    /// Every file under `path` in a commit; empty when the commit has nothing there.
    public func files(of commit: ObjectID, under path: String) throws(GitError) -> [TreeEntry] {
        guard let tree = try treeID(of: commit, at: path) else { return [] }
        return try walkTree(tree)
    }

    /// The content of a blob (a file, or a symlink's target).
    public func readBlob(_ id: ObjectID) throws(GitError) -> [UInt8] {
        var oid = id.oid
        var blob: OpaquePointer?
        let operation = "read blob \(id.short)"
        let code = git_blob_lookup(&blob, handle, &oid)
        if code == GIT_ENOTFOUND.rawValue {
            throw GitError(kind: .notFound, operation: operation, message: "no blob \(id) in \(self.path)", code: code)
        }
        try LibGit2.check(code, operation)
        defer { git_blob_free(blob) }
        let size = Int(git_blob_rawsize(blob))
        guard size > 0, let raw = git_blob_rawcontent(blob) else { return [] }
        return Array(UnsafeRawBufferPointer(start: raw, count: size))
    }

    /// The contents of several blobs in one call (one hop to the repository's queue, not one per blob).
    public func readBlobs(_ ids: [ObjectID]) throws(GitError) -> [[UInt8]] {
        var contents: [[UInt8]] = []
        contents.reserveCapacity(ids.count)
        for id in ids { contents.append(try readBlob(id)) }
        return contents
    }

    /// Like `readBlobs`, but a blob over `sizeLimit` bytes is not read at all: its size comes
    /// from the object header, so a 200 MiB file never reaches memory.
    public func readBlobs(_ ids: [ObjectID], sizeLimit: Int) throws(GitError) -> [BlobRead] {
        var contents: [BlobRead] = []
        contents.reserveCapacity(ids.count)
        for id in ids {
            let size = try blobSize(id)
            contents.append(size > sizeLimit ? .oversized(size: size) : .content(try readBlob(id)))
        }
        return contents
    }

    /// The size of a blob in bytes, read from the object's header without inflating it.
    public func blobSize(_ id: ObjectID) throws(GitError) -> Int {
        let operation = "read the size of blob \(id.short)"
        var odb: OpaquePointer?
        try LibGit2.check(git_repository_odb(&odb, handle), operation)
        defer { git_odb_free(odb) }
        var oid = id.oid
        var size = 0
        var type = GIT_OBJECT_ANY
        let code = git_odb_read_header(&size, &type, odb, &oid)
        if code == GIT_ENOTFOUND.rawValue {
            throw GitError(kind: .notFound, operation: operation, message: "no blob \(id) in \(self.path)", code: code)
        }
        try LibGit2.check(code, operation)
        return size
    }

    /// Depth-first with an explicit stack (a tree thousands of levels deep must not overflow
    /// the thread's stack); each level keeps only its own name, so memory stays linear in the
    /// tree however deep it is. Entries come out in the order a recursive walk gives.
    private func walk(_ tree: ObjectID, prefix: GitPath, into result: inout [TreeEntry]) throws(GitError) {
        var stack = [TreeLevel(name: [], entries: try rawEntries(of: tree))]
        while !stack.isEmpty {
            guard let entry = stack[stack.count - 1].next() else {
                stack.removeLast()
                continue
            }
            if entry.mode == 0o040000 {
                stack.append(TreeLevel(name: entry.name, entries: try rawEntries(of: entry.id)))
            } else {
                let path = GitPath(bytes: TreePath.join(stack.lazy.map(\.name), entry.name, under: prefix.bytes))
                result.append(TreeEntry(path: path, kind: TreeEntry.kind(forMode: entry.mode), mode: entry.mode, id: entry.id))
            }
        }
    }

    /// The entries of one tree, in git's order.
    func rawEntries(of tree: ObjectID) throws(GitError) -> [RawTreeEntry] {
        let pointer = try lookupTree(tree, operation: "walk tree \(tree.short)")
        defer { git_tree_free(pointer) }
        return (0..<git_tree_entrycount(pointer)).map { index in
            let entry = git_tree_entry_byindex(pointer, index)
            return RawTreeEntry(
                name: git_tree_entry_name(entry).map { GitPath(cString: $0).bytes } ?? [],
                mode: UInt32(git_tree_entry_filemode(entry).rawValue), id: ObjectID(git_tree_entry_id(entry)))
        }
    }

    func lookupTree(_ id: ObjectID, operation: String) throws(GitError) -> OpaquePointer {
        var oid = id.oid
        var tree: OpaquePointer?
        let code = git_tree_lookup(&tree, handle, &oid)
        if code == GIT_ENOTFOUND.rawValue {
            throw GitError(kind: .notFound, operation: operation, message: "no tree \(id) in \(path)", code: code)
        }
        try LibGit2.check(code, operation)
        return tree!
    }

    private static func entry(_ pointer: OpaquePointer?, prefix: GitPath) -> TreeEntry {
        let mode = UInt32(git_tree_entry_filemode(pointer).rawValue)
        let name = git_tree_entry_name(pointer).map { GitPath(cString: $0) } ?? GitPath(bytes: [])
        return TreeEntry(
            path: prefix.appending(name),
            kind: TreeEntry.kind(forMode: mode),
            mode: mode,
            id: ObjectID(git_tree_entry_id(pointer)))
    }

    static func trimSlashes(_ path: String) -> String {
        var trimmed = Substring(path)
        while trimmed.hasPrefix("/") { trimmed = trimmed.dropFirst() }
        while trimmed.hasSuffix("/") { trimmed = trimmed.dropLast() }
        return String(trimmed)
    }
}
