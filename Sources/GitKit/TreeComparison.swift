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

    /// Depth-first over the differing subtrees with an explicit stack, so a tree thousands of
    /// levels deep neither overflows the thread's stack nor keeps a full path per level.
    mutating func compare(_ old: ObjectID?, _ new: ObjectID?, prefix: GitPath = GitPath(bytes: [])) throws(GitError) {
        if old == new { return }
        var stack = [Level(name: [], steps: try steps(old, new))]
        while !stack.isEmpty {
            guard let step = stack[stack.count - 1].next() else {
                stack.removeLast()
                continue
            }
            switch step {
            case .descend(let name, let old, let new):
                stack.append(Level(name: name, steps: try steps(old, new)))
            case .delta(let name, let status, let oldMode, let newMode, let oldID, let newID):
                let path = GitPath(bytes: TreePath.join(stack.lazy.map(\.name), name, under: prefix.bytes))
                deltas.append(
                    DiffDelta(
                        status: status, oldPath: oldID == nil ? nil : path, newPath: newID == nil ? nil : path,
                        oldMode: oldMode, newMode: newMode, oldID: oldID, newID: newID))
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

    /// What comparing two trees' entries asks for, in name order: deltas for files, descents
    /// for subtrees (a subtree replaced by a file is all deleted before the file is added).
    private func steps(_ old: ObjectID?, _ new: ObjectID?) throws(GitError) -> [Step] {
        let oldEntries = try old.map { id throws(GitError) in try entries(of: id) } ?? [:]
        let newEntries = try new.map { id throws(GitError) in try entries(of: id) } ?? [:]
        var steps: [Step] = []
        for name in Set(oldEntries.keys).union(newEntries.keys).sorted(by: { $0.lexicographicallyPrecedes($1) }) {
            switch (oldEntries[name], newEntries[name]) {
            case (let before?, let after?):
                let beforeIsTree = before.mode == 0o040000
                let afterIsTree = after.mode == 0o040000
                if beforeIsTree && afterIsTree {
                    if before.id != after.id { steps.append(.descend(name, before.id, after.id)) }
                } else if beforeIsTree || afterIsTree {
                    steps.append(Self.removal(before, name))
                    steps.append(Self.addition(after, name))
                } else if before.id != after.id || before.mode != after.mode {
                    let sameKind = TreeEntry.kind(forMode: before.mode) == TreeEntry.kind(forMode: after.mode)
                        || (Self.isRegular(before.mode) && Self.isRegular(after.mode))
                    steps.append(.delta(name, sameKind ? .modified : .typeChanged, before.mode, after.mode, before.id, after.id))
                }
            case (let before?, nil):
                steps.append(Self.removal(before, name))
            case (nil, let after?):
                steps.append(Self.addition(after, name))
            case (nil, nil):
                break
            }
        }
        return steps
    }

    private static func removal(_ entry: RawEntry, _ name: [UInt8]) -> Step {
        entry.mode == 0o040000 ? .descend(name, entry.id, nil) : .delta(name, .deleted, entry.mode, 0, entry.id, nil)
    }

    private static func addition(_ entry: RawEntry, _ name: [UInt8]) -> Step {
        entry.mode == 0o040000 ? .descend(name, nil, entry.id) : .delta(name, .added, 0, entry.mode, nil, entry.id)
    }

    private enum Step {
        case descend([UInt8], ObjectID?, ObjectID?)
        case delta([UInt8], DiffStatus, UInt32, UInt32, ObjectID?, ObjectID?)
    }

    /// One subtree being compared: its own name and the steps left.
    private struct Level {
        let name: [UInt8]
        let steps: [Step]
        var index = 0

        mutating func next() -> Step? {
            guard index < steps.count else { return nil }
            defer { index += 1 }
            return steps[index]
        }
    }

    private static func isRegular(_ mode: UInt32) -> Bool { mode == 0o100644 || mode == 0o100755 }

    private struct RawEntry {
        let mode: UInt32
        let id: ObjectID
    }

    private func entries(of tree: ObjectID) throws(GitError) -> [[UInt8]: RawEntry] {
        var oid = tree.oid
        var pointer: OpaquePointer?
        try LibGit2.check(git_tree_lookup(&pointer, repository, &oid), operation)
        defer { git_tree_free(pointer) }
        var result: [[UInt8]: RawEntry] = [:]
        let count = git_tree_entrycount(pointer)
        result.reserveCapacity(count)
        for index in 0..<count {
            let entry = git_tree_entry_byindex(pointer, index)
            guard let name = git_tree_entry_name(entry) else { continue }
            result[GitPath(cString: name).bytes] = RawEntry(
                mode: UInt32(git_tree_entry_filemode(entry).rawValue), id: ObjectID(git_tree_entry_id(entry)))
        }
        return result
    }
}
