import Foundation

/// Every commit the run made, in order, with the full tree it holds: the truth that KV and the
/// rendered files are checked against. Contents are registered before the commit exists, so a
/// fast renderer can never show something the history does not know yet.
final class ConfigHistory: @unchecked Sendable {
    typealias Tree = [String: [UInt8]]

    private let lock = NSLock()
    private var order: [String] = []
    private var trees: [String: Tree] = [:]
    private var knownRenders: [String: Set<[UInt8]>] = [:]

    func register(renders: [String: [UInt8]]) {
        lock.withLock {
            for (destination, content) in renders { knownRenders[destination, default: []].insert(content) }
        }
    }

    func append(commit: String, tree: Tree) {
        lock.withLock {
            order.append(commit)
            trees[commit] = tree
        }
    }

    var commits: [String] { lock.withLock { order } }
    var head: String? { lock.withLock { order.last } }

    func tree(at commit: String) -> Tree? { lock.withLock { trees[commit] } }

    /// Where `commit` is in the branch's history (nil for a commit this run never made).
    func position(of commit: String) -> Int? { lock.withLock { order.firstIndex(of: commit) } }

    /// Whether `content` is what `destination` held at some commit (torn files never are).
    func isKnownRender(_ content: [UInt8], at destination: String) -> Bool {
        lock.withLock { knownRenders[destination]?.contains(content) ?? false }
    }

    /// The files under `directory/` at `commit`, keyed relative to it.
    func files(under directory: String, at commit: String) -> Tree? {
        guard let tree = tree(at: commit) else { return nil }
        var files: Tree = [:]
        for (path, content) in tree where path.hasPrefix(directory + "/") {
            files[String(path.dropFirst(directory.count + 1))] = content
        }
        return files
    }
}
