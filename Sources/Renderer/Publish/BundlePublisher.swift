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
        if let reason = try await store.stopReason(stopKey) { return .stopped(reason: reason) }
        for file in files { try minLines.check(file.content, file: file.path, key: key) }
        let bundle = ConfigBundle(
            source: source,
            commit: BundleCommit(id: "", author: owner, email: "", time: Int64(Date().timeIntervalSince1970), summary: summary),
            files: files)
        let current = try await store.publishRead(key, what: "bundle")
        var previousManifest: ChunkManifest?
        if let current {
            let content = KeyContent(current.value)
            if content.digest == bundle.digest { return .unchanged(digest: bundle.digest) }
            if case .manifest(let manifest) = content { previousManifest = manifest }
            let origin = try await origin(of: content, entry: current)
            try checkNotSynced(origin)
            try checkOwner(of: origin)
        } else {
            try await checkNotUnderSyncedPrefix()
        }
        let valueLimit = TransactionPacker.largestValue(store.limits)
        let stored: StoredBundle
        do {
            stored = try BundleChunker.store(bundle, valueLimit: valueLimit, chunkSize: valueLimit / 2)
        } catch {
            throw RenderError(.bundle, "cannot encode the bundle for \(key): \(error)")
        }
        let packer = TransactionPacker(limits: store.limits)
        if case .chunked(_, let chunks) = stored {
            // Chunks first (content-addressed, so a reader of the old value is never disturbed),
            // then the manifest in one guarded compare-and-set.
            let uploads = chunks.map { KVOperation.set(key: ChunkManifest.chunkKey($0.sha256, besideBundleKey: key), value: $0.bytes) }
            for operations in packer.pack(uploads, guards: guards, last: nil) {
                try await store.publishWrite(operations, what: "chunks of \(key)")
            }
        }
        try await store.publishWrite(guards + [.cas(key: key, value: stored.keyValue, index: current?.modifyIndex ?? 0)], what: key)
        if let previousManifest {
            await removeChunks(of: previousManifest, keeping: stored, guards: guards, packer: packer)
        }
        return .published(digest: bundle.digest)
    }

    /// The previous value's chunks that neither the new value nor another bundle beside the key
    /// uses. A failure here leaves unused chunks behind and is not an error of the publish: the
    /// next publish removes them.
    private func removeChunks(
        of previous: ChunkManifest, keeping stored: StoredBundle, guards: [KVOperation], packer: TransactionPacker
    ) async {
        var used: Set<String> = []
        if case .chunked(let manifest, _) = stored { used.formUnion(manifest.chunks.map(\.sha256)) }
        var candidates = Set(previous.chunks.map(\.sha256)).subtracting(used)
        guard !candidates.isEmpty else { return }
        do {
            let parent = key.split(separator: "/").dropLast().joined(separator: "/")
            let siblings = try await store.keys(prefix: parent.isEmpty ? "" : parent + "/", separator: "/", options: KVReadOptions()).value
            for sibling in siblings where sibling != key && !sibling.hasSuffix("/") {
                guard let entry = try await store.get(sibling).value, case .manifest(let manifest) = KeyContent(entry.value) else { continue }
                candidates.subtract(manifest.chunks.map(\.sha256))
            }
            let removals = candidates.sorted().map { KVOperation.delete(key: ChunkManifest.chunkKey($0, besideBundleKey: key)) }
            for operations in packer.pack(removals, guards: guards, last: nil) {
                _ = try await store.transaction(operations)
            }
        } catch {
            return
        }
    }

    /// Where what the key holds now came from; a chunked value is reassembled (and verified) for it.
    private func origin(of content: KeyContent, entry: KVEntry) async throws(RenderError) -> BundleOrigin? {
        switch content {
        case .bundle(let header):
            return BundleOrigin(source: header.source, commit: header.commit)
        case .other:
            return nil
        case .manifest(let manifest):
            do {
                let bundle = try await BundleReader(store: store).verify(entry).bundle
                return BundleOrigin(source: bundle.source, commit: bundle.commit)
            } catch {
                if !manifest.commit.isEmpty {
                    throw RenderError(.guardFailed, "\(key) holds a chunked bundle synced from git (commit \(manifest.commit.prefix(12))); publish refuses to write over it")
                }
                guard takeOver else {
                    throw RenderError(.guardFailed, "\(key) holds a chunked bundle whose owner cannot be read (\(error)); run publish with --take-over to replace it")
                }
                return nil
            }
        }
    }

    /// A value `git2kv sync` wrote (a bundle from a git repository, chunked or not) is not
    /// published over: the next sync would put it back, and the two would take turns.
    private func checkNotSynced(_ origin: BundleOrigin?) throws(RenderError) {
        guard let origin, !Self.publishedRepos.contains(origin.source.repo) else { return }
        let commit = origin.commit.id.prefix(12)
        throw RenderError(
            .guardFailed,
            "\(key) holds a bundle synced from git (repo \(origin.source.repo), commit \(commit)); publish refuses to write over it, the next sync would put it back")
    }

    private func checkOwner(of origin: BundleOrigin?) throws(RenderError) {
        guard !takeOver, let origin, origin.commit.author != owner else { return }
        let when = Date(timeIntervalSince1970: TimeInterval(origin.commit.time))
        throw RenderError(
            .guardFailed,
            "\(key) is published by \(origin.commit.author) (last at \(when)); \(owner) may not replace it. Run publish with --take-over to make \(owner) its owner")
    }

    /// No bundle yet: refused when a prefix above the key is one `git2kv sync` keeps (its
    /// `.git2kv/state` key exists): sync would delete the stray key at its next full compare.
    private func checkNotUnderSyncedPrefix() async throws(RenderError) {
        let parts = key.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count > 1 else { return }
        for length in 1..<parts.count {
            let prefix = parts[..<length].joined(separator: "/")
            if try await store.publishRead(prefix + "/.git2kv/state", what: "sync state") != nil {
                throw RenderError(
                    .guardFailed, "\(key) is under \(prefix), which git2kv sync keeps (\(prefix)/.git2kv/state exists); publish refuses to write there")
            }
        }
    }
}

/// Who wrote a bundle: its source and commit (for a published one, the owner is the author).
private struct BundleOrigin {
    var source: BundleSource
    var commit: BundleCommit
}

/// What a key holds, decoded once: a chunk manifest, a bundle's header, or something else.
private enum KeyContent {
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
