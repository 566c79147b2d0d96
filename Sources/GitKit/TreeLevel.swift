/// One entry of a tree as libgit2 lists it: its own name (not its path), mode and id.
struct RawTreeEntry {
    let name: [UInt8]
    let mode: UInt32
    let id: ObjectID
}

/// One level of an iterative depth-first tree walk: the directory's own name and the entries
/// still to visit. Paths are assembled from the levels' names only when an entry is reported.
struct TreeLevel {
    let name: [UInt8]
    private let entries: [RawTreeEntry]
    private var index = 0

    init(name: [UInt8], entries: [RawTreeEntry]) {
        self.name = name
        self.entries = entries
    }

    mutating func next() -> RawTreeEntry? {
        guard index < entries.count else { return nil }
        defer { index += 1 }
        return entries[index]
    }
}

/// Paths of iterative tree walks, assembled from the names of the levels above an entry.
enum TreePath {
    /// `prefix/level1/level2/.../name`, skipping empty names (the root's).
    static func join(_ levels: some Sequence<[UInt8]>, _ name: [UInt8], under prefix: [UInt8]) -> [UInt8] {
        var bytes = prefix
        for level in levels where !level.isEmpty {
            if !bytes.isEmpty { bytes.append(UInt8(ascii: "/")) }
            bytes += level
        }
        if !bytes.isEmpty { bytes.append(UInt8(ascii: "/")) }
        bytes += name
        return bytes
    }
}
