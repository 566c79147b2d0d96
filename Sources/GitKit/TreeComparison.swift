import CLibGit2

/// Compares two trees by walking only into subtrees whose ids differ, so a one-file change in a
/// large repository reads a handful of trees. (libgit2's tree-to-tree diff expands every subtree.)
struct TreeComparison {
    let repository: OpaquePointer
    let operation: String
    private(set) var deltas: [DiffDelta] = []

    init(repository: OpaquePointer, operation: String) {
        self.repository = repository
        self.operation = operation
    }

    mutating func compare(_ old: ObjectID?, _ new: ObjectID?, prefix: GitPath = GitPath(bytes: [])) throws(GitError) {
        if old == new { return }
        let oldEntries = try old.map { id throws(GitError) in try entries(of: id) } ?? [:]
        let newEntries = try new.map { id throws(GitError) in try entries(of: id) } ?? [:]
        let names = Set(oldEntries.keys).union(newEntries.keys).sorted()
        for name in names {
            let path = prefix.appending(name)
            switch (oldEntries[name], newEntries[name]) {
            case (let before?, let after?):
                try compareEntries(before, after, path: path)
            case (let before?, nil):
                try removed(before, path: path)
            case (nil, let after?):
                try added(after, path: path)
            case (nil, nil):
                break
            }
        }
    }

    /// Pairs deleted and added entries with the same content and kind into exact renames.
    mutating func pairExactRenames() {
        var addedByContent: [ObjectID: [Int]] = [:]
        for (index, delta) in deltas.enumerated() where delta.status == .added {
            if let id = delta.newID { addedByContent[id, default: []].append(index) }
        }
        var renameTarget: [Int: Int] = [:]
        var consumed = Set<Int>()
        for (index, delta) in deltas.enumerated() where delta.status == .deleted {
            guard let id = delta.oldID,
                let match = addedByContent[id]?.first(where: {
                    !consumed.contains($0)
                        && TreeEntry.kind(forMode: deltas[$0].newMode) == TreeEntry.kind(forMode: delta.oldMode)
                })
            else { continue }
            consumed.insert(match)
            renameTarget[index] = match
        }
        guard !renameTarget.isEmpty else { return }
        var result: [DiffDelta] = []
        for (index, delta) in deltas.enumerated() where !consumed.contains(index) {
            guard let match = renameTarget[index] else {
                result.append(delta)
                continue
            }
            let target = deltas[match]
            result.append(
                DiffDelta(
                    status: .renamed(similarity: 100), oldPath: delta.oldPath, newPath: target.newPath,
                    oldMode: delta.oldMode, newMode: target.newMode, oldID: delta.oldID, newID: target.newID))
        }
        deltas = result
    }

    private mutating func compareEntries(_ before: RawEntry, _ after: RawEntry, path: GitPath) throws(GitError) {
        let beforeIsTree = before.mode == 0o040000
        let afterIsTree = after.mode == 0o040000
        switch (beforeIsTree, afterIsTree) {
        case (true, true):
            try compare(before.id, after.id, prefix: path)
        case (true, false):
            try removed(before, path: path)
            try added(after, path: path)
        case (false, true):
            try removed(before, path: path)
            try added(after, path: path)
        case (false, false):
            guard before.id != after.id || before.mode != after.mode else { return }
            let sameKind = TreeEntry.kind(forMode: before.mode) == TreeEntry.kind(forMode: after.mode)
                || (Self.isRegular(before.mode) && Self.isRegular(after.mode))
            deltas.append(
                DiffDelta(
                    status: sameKind ? .modified : .typeChanged, oldPath: path, newPath: path,
                    oldMode: before.mode, newMode: after.mode, oldID: before.id, newID: after.id))
        }
    }

    private mutating func removed(_ entry: RawEntry, path: GitPath) throws(GitError) {
        if entry.mode == 0o040000 {
            try compare(entry.id, nil, prefix: path)
        } else {
            deltas.append(DiffDelta(status: .deleted, oldPath: path, newPath: nil, oldMode: entry.mode, newMode: 0, oldID: entry.id, newID: nil))
        }
    }

    private mutating func added(_ entry: RawEntry, path: GitPath) throws(GitError) {
        if entry.mode == 0o040000 {
            try compare(nil, entry.id, prefix: path)
        } else {
            deltas.append(DiffDelta(status: .added, oldPath: nil, newPath: path, oldMode: 0, newMode: entry.mode, oldID: nil, newID: entry.id))
        }
    }

    private static func isRegular(_ mode: UInt32) -> Bool { mode == 0o100644 || mode == 0o100755 }

    private struct RawEntry {
        let mode: UInt32
        let id: ObjectID
    }

    private func entries(of tree: ObjectID) throws(GitError) -> [GitPath: RawEntry] {
        var oid = tree.oid
        var pointer: OpaquePointer?
        try LibGit2.check(git_tree_lookup(&pointer, repository, &oid), operation)
        defer { git_tree_free(pointer) }
        var result: [GitPath: RawEntry] = [:]
        let count = git_tree_entrycount(pointer)
        result.reserveCapacity(count)
        for index in 0..<count {
            let entry = git_tree_entry_byindex(pointer, index)
            guard let name = git_tree_entry_name(entry) else { continue }
            result[GitPath(cString: name)] = RawEntry(
                mode: UInt32(git_tree_entry_filemode(entry).rawValue), id: ObjectID(git_tree_entry_id(entry)))
        }
        return result
    }
}
