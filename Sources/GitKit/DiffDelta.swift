/// How one path changed between two trees.
public enum DiffStatus: Hashable, Sendable {
    case added
    case deleted
    case modified
    /// Moved, with git's similarity score (100 for an exact rename).
    case renamed(similarity: Int)
    /// The entry changed kind, for example from a file to a symlink.
    case typeChanged
}

/// One change between two trees, paths relative to the compared subtree.
public struct DiffDelta: Hashable, Sendable {
    public let status: DiffStatus
    /// nil for added entries.
    public let oldPath: GitPath?
    /// nil for deleted entries.
    public let newPath: GitPath?
    public let oldMode: UInt32
    public let newMode: UInt32
    public let oldID: ObjectID?
    public let newID: ObjectID?

    public init(
        status: DiffStatus, oldPath: GitPath?, newPath: GitPath?, oldMode: UInt32, newMode: UInt32,
        oldID: ObjectID?, newID: ObjectID?
    ) {
        self.status = status
        self.oldPath = oldPath
        self.newPath = newPath
        self.oldMode = oldMode
        self.newMode = newMode
        self.oldID = oldID
        self.newID = newID
    }

    /// True when only the file mode changed (for example a file became executable).
    public var isModeChangeOnly: Bool {
        status == .modified && oldID == newID && oldMode != newMode
    }

    /// Every path this change touches (both sides of a rename).
    public var paths: [GitPath] {
        var result: [GitPath] = []
        if let oldPath { result.append(oldPath) }
        if let newPath, newPath != oldPath { result.append(newPath) }
        return result
    }
}
