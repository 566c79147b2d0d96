public import BundleFormat
public import KV
import Foundation
import ConfigParsing

/// What a publish did.
public enum PublishOutcome: Sendable, Equatable {
    /// KV already holds a bundle with these files: nothing was written.
    case unchanged(digest: String)
    case published(digest: String)
    /// The stop key is set: nothing was written.
    case stopped(reason: String)
}

/// Writes generated files (kvexpress's `in`) as one bundle at a key, only when their content
/// changed, never when a file is shorter than its `min_lines`, never while the stop key exists.
/// The key has one owner (recorded as the bundle's author): another owner's publish is refused
/// unless it takes over, so two nodes cannot flip a key between their contents. A key that
/// `git2kv sync` writes (its bundle came from git, or it lies under a synced prefix) is never
/// published over. The write is a transaction: compare-and-set on the key plus any guards.
public struct BundlePublisher: Sendable {
    public let store: any KVStore
    public let key: String
    public let minLines: MinLinesRule
    public let stopKey: String?
    /// Who publishes (this host's name unless given); recorded in the bundle.
    public let owner: String
    /// Publish even when another owner published the key last.
    public let takeOver: Bool

    public init(
        store: any KVStore, key: String, minLines: MinLinesRule = MinLinesRule(), stopKey: String? = nil,
        owner: String? = nil, takeOver: Bool = false
    ) {
        self.store = store
        self.key = key
        self.minLines = minLines
        self.stopKey = stopKey
        self.owner = owner ?? ProcessInfo.processInfo.hostName
        self.takeOver = takeOver
    }

    /// The `source.repo` of bundles written by `git2kv publish` and `git2kv hosts`.
    public static let publishedRepos: Set<String> = ["git2kv-publish", "git2kv-hosts"]

    public func publish(
        _ files: [BundleFile], source: BundleSource, summary: String, guards: [KVOperation] = []
    ) async throws(RenderError) -> PublishOutcome {
        if let problem = KeyPathRules.problem(in: key) { throw RenderError(.guardFailed, "\(key.debugDescription) is not a KV key: it \(problem)") }
        if let stopKey, let stop = try await read(stopKey, what: "stop key") {
            let reason = String(decoding: stop.value, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            return .stopped(reason: "stop key \(stopKey) is set\(reason.isEmpty ? "" : ": \(reason)")")
        }
        for file in files {
            let lines = OutputContent.lineCount(file.content)
            let minimum = minLines.minimum(for: file.path)
            guard lines >= minimum else {
                throw RenderError(.guardFailed, "\(file.path) has \(lines) lines, fewer than min_lines \(minimum); \(key) keeps its value")
            }
        }
        let bundle = ConfigBundle(
            source: source,
            commit: BundleCommit(id: "", author: owner, email: "", time: Int64(Date().timeIntervalSince1970), summary: summary),
            files: files)
        let current = try await read(key, what: "bundle")
        if let current {
            let stored = StoredBundle(current.value)
            try checkNotSynced(stored)
            if stored.digest == bundle.digest { return .unchanged(digest: bundle.digest) }
            try checkOwner(of: stored)
        } else {
            try await checkNotUnderSyncedPrefix()
        }
        let value: [UInt8]
        do {
            value = try BundleEncoder.encode(bundle)
        } catch {
            throw RenderError(.bundle, "cannot encode the bundle for \(key): \(error)")
        }
        guard value.count <= store.limits.maxValueSize else {
            throw RenderError(.bundle, "the bundle for \(key) is \(value.count) bytes, over the store's value limit of \(store.limits.maxValueSize)")
        }
        let write = KVOperation.cas(key: key, value: value, index: current?.modifyIndex ?? 0)
        do {
            _ = try await store.transaction(guards + [write])
        } catch {
            throw RenderError(.kv, "cannot write \(key): \(error)")
        }
        return .published(digest: bundle.digest)
    }

    /// A value `git2kv sync` wrote (a chunk manifest, or a bundle from a git repository) is not
    /// published over: the next sync would put it back, and the two would take turns.
    private func checkNotSynced(_ stored: StoredBundle) throws(RenderError) {
        switch stored {
        case .manifest:
            throw RenderError(.guardFailed, "\(key) holds a bundle synced from git (chunked); publish refuses to write over it")
        case .bundle(let header) where !Self.publishedRepos.contains(header.source.repo):
            let commit = header.commit.id.prefix(12)
            throw RenderError(
                .guardFailed,
                "\(key) holds a bundle synced from git (repo \(header.source.repo), commit \(commit)); publish refuses to write over it, the next sync would put it back")
        case .bundle, .other:
            return
        }
    }

    private func checkOwner(of stored: StoredBundle) throws(RenderError) {
        guard !takeOver, case .bundle(let header) = stored, header.commit.author != owner else { return }
        let when = Date(timeIntervalSince1970: TimeInterval(header.commit.time))
        throw RenderError(
            .guardFailed,
            "\(key) is published by \(header.commit.author) (last at \(when)); \(owner) may not replace it. Run publish with --take-over to make \(owner) its owner")
    }

    /// No bundle yet: refused when a prefix above the key is one `git2kv sync` keeps (its
    /// `.git2kv/state` key exists): sync would delete the stray key at its next full compare.
    private func checkNotUnderSyncedPrefix() async throws(RenderError) {
        let parts = key.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count > 1 else { return }
        for length in 1..<parts.count {
            let prefix = parts[..<length].joined(separator: "/")
            if try await read(prefix + "/.git2kv/state", what: "sync state") != nil {
                throw RenderError(
                    .guardFailed, "\(key) is under \(prefix), which git2kv sync keeps (\(prefix)/.git2kv/state exists); publish refuses to write there")
            }
        }
    }

    private func read(_ key: String, what: String) async throws(RenderError) -> KVEntry? {
        do {
            return try await store.get(key).value
        } catch {
            throw RenderError(.kv, "cannot read \(what) \(key): \(error)")
        }
    }
}

/// What a key holds, decoded once: a chunk manifest, a bundle's header, or something else.
private enum StoredBundle {
    case manifest(ChunkManifest)
    case bundle(BundleHeader)
    case other

    init(_ value: [UInt8]) {
        if let manifest = try? ChunkManifest.decode(value) {
            self = .manifest(manifest)
        } else if let header = try? BundleDecoder.decodeHeader(value) {
            self = .bundle(header)
        } else {
            self = .other
        }
    }

    var digest: String? {
        switch self {
        case .manifest(let manifest): manifest.digest
        case .bundle(let header): header.digest
        case .other: nil
        }
    }
}
