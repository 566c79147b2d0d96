import Crypto
import Foundation
public import BundleFormat

/// The value of `<prefix>/.git2kv/state`: what is live under the prefix, written last in the
/// transaction that makes it live (the "done marker"). Readers and `status` trust only it.
public struct SyncState: Codable, Sendable, Equatable {
    public static let currentVersion = 1

    public var version = SyncState.currentVersion
    public var repo: String
    public var branch: String
    public var source: String
    public var layout: String
    /// The commit the prefix now reflects.
    public var commit: BundleCommit
    /// The commit synced before it (the commit range of this change is previous..commit).
    public var previousCommit: String?
    /// Seconds since 1970 when this state was written.
    public var syncedAt: Int64
    /// What wrote it: `sync`, `full-compare` (initial, force push, drift) or `rollback`.
    public var kind: String
    /// Live bundles by name (bundle layout); empty for the files layout.
    public var bundles: [String: BundleRecord]
    /// Files that kept their bundle at its last good value.
    public var errors: [SyncProblem]
    /// Keys found edited or added by hand and repaired in this sync.
    public var drift: [String]
    /// `files` layout: how many keys the files produced, and a digest of their names, so a
    /// key listing tells whether anything was added or removed by hand.
    public var keys: KeySummary?
    /// The checks files passed or failed under (validation, include/exclude, key expansion): when
    /// they change, the next sync checks every file again instead of keeping old refusals.
    public var checks: String?

    public init(
        repo: String, branch: String, source: String, layout: String, commit: BundleCommit, previousCommit: String?,
        syncedAt: Int64, kind: String, bundles: [String: BundleRecord], errors: [SyncProblem], drift: [String]
    ) {
        self.repo = repo
        self.branch = branch
        self.source = source
        self.layout = layout
        self.commit = commit
        self.previousCommit = previousCommit
        self.syncedAt = syncedAt
        self.kind = kind
        self.bundles = bundles
        self.errors = errors
        self.drift = drift
    }

    enum CodingKeys: String, CodingKey {
        case version, repo, branch, source, layout, commit, kind, bundles, errors, drift, keys, checks
        case previousCommit = "previous_commit"
        case syncedAt = "synced_at"
    }

    public func encoded() -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Encoding plain structs of strings and numbers cannot fail.
        return Array((try? encoder.encode(self)) ?? Data())
    }

    public static func decode(_ value: [UInt8]) throws(SyncError) -> SyncState {
        let state: SyncState
        do {
            state = try JSONDecoder().decode(SyncState.self, from: Data(value))
        } catch {
            throw SyncError(.unreadableState, "the state value is not a git2kv state: \(error)")
        }
        guard state.version == currentVersion else {
            throw SyncError(.unreadableState, "state version \(state.version) is not supported by this build (reads \(currentVersion))")
        }
        return state
    }
}

/// The names of a set of keys, summarized.
public struct KeySummary: Codable, Sendable, Equatable {
    public var count: Int
    public var sha256: String

    public init<Keys: Collection<String>>(_ keys: Keys) {
        count = keys.count
        sha256 = SHA256.hash(data: Array(keys.sorted().joined(separator: "\n").utf8)).map { String(format: "%02x", $0) }.joined()
    }
}

/// One live bundle: its digest (over its files), the commit its content came from, and the
/// chunks it is stored in when it is over the value limit.
public struct BundleRecord: Codable, Sendable, Equatable {
    public var digest: String
    public var commit: String
    public var size: Int
    public var chunks: [String]?

    public init(digest: String, commit: String, size: Int, chunks: [String]? = nil) {
        self.digest = digest
        self.commit = commit
        self.size = size
        self.chunks = chunks
    }
}

/// A file problem as kept in the state, with its bundle and the commit it was found in.
public struct SyncProblem: Codable, Sendable, Hashable, CustomStringConvertible {
    public var bundle: String
    public var file: String
    public var line: Int?
    public var reason: String
    public var commit: String

    public init(bundle: String, problem: FileProblem, commit: String) {
        self.bundle = bundle
        self.file = problem.file
        self.line = problem.line
        self.reason = problem.reason
        self.commit = commit
    }

    public var description: String {
        let place = line.map { "\(file):\($0)" } ?? file
        return "\(place): \(reason) (bundle \(bundle), commit \(commit.prefix(12)))"
    }
}
