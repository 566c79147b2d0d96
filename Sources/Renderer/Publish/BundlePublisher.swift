public import BundleFormat
public import KV
import Foundation
import Pipeline

/// What a publish did.
public enum PublishOutcome: Sendable, Equatable {
    /// KV already holds a bundle with these files: nothing was written.
    case unchanged(digest: String)
    case published(digest: String)
    /// The stop key is set: nothing was written.
    case stopped(reason: String)
}

/// Writes generated files (kvexpress's `in`) as one bundle at a key, only when their content
/// changed, never when a file is shorter than `min_lines`, never while the stop key exists.
/// The write is a transaction: compare-and-set on the key plus any guards (a held lock).
public struct BundlePublisher: Sendable {
    public let store: any KVStore
    public let key: String
    public let minLines: Int
    public let stopKey: String?

    public init(store: any KVStore, key: String, minLines: Int = 1, stopKey: String? = nil) {
        self.store = store
        self.key = key
        self.minLines = minLines
        self.stopKey = stopKey
    }

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
            guard lines >= minLines else {
                throw RenderError(.guardFailed, "\(file.path) has \(lines) lines, fewer than min_lines \(minLines); \(key) keeps its value")
            }
        }
        let bundle = ConfigBundle(
            source: source,
            commit: BundleCommit(
                id: "", author: ProcessInfo.processInfo.hostName, email: "", time: Int64(Date().timeIntervalSince1970), summary: summary),
            files: files)
        let current = try await read(key, what: "bundle")
        if let current, Self.digest(of: current.value) == bundle.digest { return .unchanged(digest: bundle.digest) }
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

    /// The digest of a stored bundle (or manifest), nil when the value is not one.
    static func digest(of value: [UInt8]) -> String? {
        if let manifest = try? ChunkManifest.decode(value) { return manifest.digest }
        return try? BundleDecoder.decodeHeader(value).digest
    }

    private func read(_ key: String, what: String) async throws(RenderError) -> KVEntry? {
        do {
            return try await store.get(key).value
        } catch {
            throw RenderError(.kv, "cannot read \(what) \(key): \(error)")
        }
    }
}
