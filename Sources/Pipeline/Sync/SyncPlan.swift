public import BundleFormat

/// What one sync of a mapping will do: the writes and deletions of the final transaction, the
/// chunks to upload before it and to remove after it, and the new state.
public struct SyncPlan: Sendable {
    public enum Mode: String, Sendable {
        /// Nothing under the source changed and KV matches: no request beyond the checks.
        case upToDate = "up to date"
        /// Only the bundles the commit range touched were rebuilt.
        case incremental
        /// The whole tree was compared with KV (no state, force push, drift, changed mapping).
        case fullCompare = "full compare"
    }

    public struct Write: Sendable {
        public let key: String
        public let value: [UInt8]
        public let bundle: String
        /// Every chunk of a chunked bundle (a staged rollout stores them beside the canary value).
        public var chunks: [Chunk] = []
    }

    public let target: MappingTarget
    public let mode: Mode
    /// Why a full compare was needed, for logs and `--dry-run`.
    public let reason: String
    public let head: String
    /// The state key's modify index when read (0: absent): the CAS guard of every transaction.
    public let stateIndex: UInt64
    public let previousState: SyncState?
    /// The prefix's index when it was read; recorded as the drift baseline when nothing is written.
    public let observedPrefixIndex: UInt64

    public internal(set) var writes: [Write] = []
    public internal(set) var deletes: [String] = []
    public internal(set) var chunkUploads: [Chunk] = []
    public internal(set) var unreferencedChunks: [String] = []
    public internal(set) var newState: SyncState?
    /// Problems found in this pass (all of them are also in `newState.errors`).
    public internal(set) var problems: [SyncProblem] = []
    public internal(set) var drift: [String] = []
    public internal(set) var unchangedBundles = 0
    /// Whether the planner listed the prefix's keys (false when the prefix's index showed
    /// nothing changed since this machine's last write).
    public internal(set) var listedKeys = true

    /// Files holding their bundles back after this sync: found now, or still in the state.
    public var outstandingErrors: [SyncProblem] { newState?.errors ?? previousState?.errors ?? [] }

    public var isEmpty: Bool { newState == nil && writes.isEmpty && deletes.isEmpty && unreferencedChunks.isEmpty }

    public var bytesToWrite: Int {
        writes.reduce(0) { $0 + $1.value.count } + chunkUploads.reduce(0) { $0 + $1.bytes.count }
            + (newState?.encoded().count ?? 0)
    }

    /// The plan as `--dry-run` prints it.
    public var summary: String {
        var lines = ["\(target.description): \(mode.rawValue) at \(head.prefix(12))" + (reason.isEmpty ? "" : " (\(reason))")]
        for write in writes { lines.append("  write  \(write.key) (\(write.value.count) bytes)") }
        for chunk in chunkUploads { lines.append("  upload \(target.chunkKey(chunk.sha256)) (\(chunk.bytes.count) bytes, before the bundles)") }
        for key in deletes { lines.append("  delete \(key)") }
        for key in unreferencedChunks { lines.append("  delete \(key) (unreferenced chunk, after the bundles)") }
        if let state = newState { lines.append("  write  \(target.stateKey) (\(state.encoded().count) bytes, last, CAS on index \(stateIndex))") }
        for problem in problems { lines.append("  kept last good value: \(problem)") }
        for item in drift { lines.append("  drift: \(item)") }
        lines.append("  \(writes.count) bundle(s) to write, \(deletes.count) to delete, \(unchangedBundles) unchanged, \(bytesToWrite) bytes")
        return lines.joined(separator: "\n")
    }
}
