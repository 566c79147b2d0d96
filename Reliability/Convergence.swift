import BundleFormat
import Foundation
import KV
import Pipeline
import TestFixtures

/// Whether KV and the rendered files hold the branch head, and, once they should, every way
/// they differ from it.
struct Convergence: Sendable {
    let kv: ConsulClient
    let history: ConfigHistory
    let workspace: ChaosWorkspace

    /// Waits until both mappings' state names the head, every destination holds the head's
    /// render and the command ran for the last one.
    func wait(timeout: Duration) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if await isSettled() { return true }
            try? await Task.sleep(for: .milliseconds(100))
        }
        return false
    }

    private func isSettled() async -> Bool {
        guard let head = history.head, let tree = history.tree(at: head) else { return false }
        for (prefix, source) in Self.mappings {
            let state = (try? await kv.get(prefix + "/.git2kv/state").value).flatMap { $0.flatMap { try? SyncState.decode($0.value) } }
            guard holdsHead(state, source: source, head: head) else { return false }
        }
        for (destination, content) in ExpectedRender.outputs(of: tree, in: workspace) where fileBytes(destination) != content {
            return false
        }
        return commandRuns().last == fileBytes(workspace.webConf).map { SHA256Hex.of($0) }
    }

    /// The two mappings of the chaos configuration: KV prefix and repository source.
    static let mappings = [("config/apps", "apps"), ("config/flat", "flat")]

    /// A mapping's state names the commit it last wrote; commits that do not change its source
    /// (or change it back) write nothing, so it holds the head when its source is the head's.
    private func holdsHead(_ state: SyncState?, source: String, head: String) -> Bool {
        guard let commit = state?.commit.id, let files = history.files(under: source, at: commit) else { return false }
        return files == history.files(under: source, at: head)
    }

    /// Every difference between KV and git at the head, and between each destination and its
    /// expected render; empty when nothing was lost.
    func compare() async -> [String] {
        guard let head = history.head, let tree = history.tree(at: head) else { return ["no commit was made"] }
        var differences: [String] = []
        let gitPaths = (try? GitCLI.text(["ls-tree", "-r", "--name-only", head], in: workspace.origin))?.split(separator: "\n").map(String.init)
        if Set(gitPaths ?? []) != Set(tree.keys) { differences.append("the run's record of the head differs from git ls-tree") }

        guard let entries = try? await kv.list(prefix: "config/").value else { return differences + ["KV could not be read at the end"] }
        var values = Dictionary(entries.map { ($0.key, $0.value) }, uniquingKeysWith: { first, _ in first })
        for (prefix, source) in Self.mappings {
            let state = values.removeValue(forKey: prefix + "/.git2kv/state").flatMap { try? SyncState.decode($0) }
            if !holdsHead(state, source: source, head: head) {
                differences.append("\(prefix)/.git2kv/state names \(state?.commit.id.prefix(12) ?? "nothing"), whose \(source)/ differs from the head \(head.prefix(12))")
            }
        }
        differences += compareBundles(tree: tree, head: head, values: &values)
        differences += compareFlatFiles(tree: tree, values: &values)
        differences += values.keys.sorted().map { "\($0) is in KV but git has nothing for it" }
        for (destination, content) in ExpectedRender.outputs(of: tree, in: workspace).sorted(by: { $0.key < $1.key })
        where fileBytes(destination) != content {
            differences.append("\(destination) does not hold the head's render")
        }
        return differences
    }

    private func compareBundles(tree: ConfigHistory.Tree, head: String, values: inout [String: [UInt8]]) -> [String] {
        var differences: [String] = []
        let directories = Set(tree.keys.filter { $0.hasPrefix("apps/") }.map { $0.split(separator: "/")[1] })
        let chunkPrefix = "config/apps/.git2kv/chunks/"
        var chunks: [String: [UInt8]] = [:]
        for key in values.keys where key.hasPrefix(chunkPrefix) { chunks[String(key.dropFirst(chunkPrefix.count))] = values[key] }
        var referenced: Set<String> = []
        for directory in directories.sorted() {
            let key = "config/apps/\(directory)"
            guard var value = values.removeValue(forKey: key) else {
                differences.append("\(key) is missing")
                continue
            }
            do {
                if value.starts(with: Array("G2KM".utf8)) {
                    let manifest = try ChunkManifest.decode(value)
                    referenced.formUnion(manifest.chunks.map(\.sha256))
                    value = try manifest.assemble(chunks)
                }
                let bundle = try BundleDecoder.decode(value)
                let files = Dictionary(uniqueKeysWithValues: bundle.files.map { ($0.path, $0.content) })
                if files != history.files(under: "apps/\(directory)", at: head) { differences.append("\(key) does not hold the head's files") }
            } catch {
                differences.append("\(key) does not verify: \(error)")
            }
        }
        for sha in chunks.keys {
            values.removeValue(forKey: chunkPrefix + sha)
            if !referenced.contains(sha) { differences.append("chunk \(sha.prefix(12)) is left over: no manifest references it") }
        }
        return differences
    }

    /// The `files` layout: one key per file, its content with surrounding whitespace trimmed.
    private func compareFlatFiles(tree: ConfigHistory.Tree, values: inout [String: [UInt8]]) -> [String] {
        var differences: [String] = []
        for (path, content) in tree.sorted(by: { $0.key < $1.key }) where path.hasPrefix("flat/") {
            let key = "config/" + path
            guard let value = values.removeValue(forKey: key) else {
                differences.append("\(key) is missing")
                continue
            }
            let expected = String(decoding: content, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            if value != Array(expected.utf8) { differences.append("\(key) does not hold the head's content") }
        }
        return differences
    }

    /// The sha256 of web.conf each time its command ran, in order.
    func commandRuns() -> [String] {
        (fileBytes(workspace.commandLog).map { String(decoding: $0, as: UTF8.self) } ?? "").split(separator: "\n").map(String.init)
    }
}
