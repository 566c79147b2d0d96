/// What a tree entry is. Symlinks and submodules are reported as such and never followed.
public enum TreeEntryKind: Hashable, Sendable {
    case file(executable: Bool)
    case symlink
    case submodule
    case directory
}

/// One entry of a tree walk, with its path relative to the walked subtree.
public struct TreeEntry: Hashable, Sendable {
    public let path: GitPath
    public let kind: TreeEntryKind
    /// The git file mode (0o100644, 0o100755, 0o120000, 0o160000, 0o040000).
    public let mode: UInt32
    /// Blob id for files and symlinks, commit id for submodules, tree id for directories.
    public let id: ObjectID

    public init(path: GitPath, kind: TreeEntryKind, mode: UInt32, id: ObjectID) {
        self.path = path
        self.kind = kind
        self.mode = mode
        self.id = id
    }

    static func kind(forMode mode: UInt32) -> TreeEntryKind {
        switch mode {
        case 0o100755: .file(executable: true)
        case 0o120000: .symlink
        case 0o160000: .submodule
        case 0o040000: .directory
        default: .file(executable: false)
        }
    }
}
