import Crypto
import Foundation
public import BundleFormat

/// The value of `<prefix>/.git2kv/state`: what is live under the prefix, written last in the
/// transaction that makes it live (the "done marker"). Readers and `status` trust only it.
///
/// It stays small whatever the number of bundles: each bundle carries its own digest and
/// commit, so the state keeps only their count, the chunks of chunked bundles (to know when a
/// chunk is no longer referenced) and a summary of the keys that should exist (to see keys
/// added or removed by hand). Version 1 held one record per bundle; it is still read, and the
/// next sync compares the whole tree once and writes version 2.
public struct SyncState: Codable, Sendable, Equatable {
    public static let currentVersion = 2

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
    /// How many bundles are live (bundle layout); 0 for the files layout.
    public var bundleCount: Int
    /// The chunks of each chunked bundle, by bundle name (bundle layout).
    public var chunked: [String: [String]]
    /// Files that kept their bundle at its last good value.
    public var errors: [SyncProblem]
    /// Keys found edited or added by hand and repaired in this sync.
    public var drift: [String]
    /// The keys that should exist under the prefix (`files` layout: the files' keys; bundle
    /// layout: the state, bundle and chunk keys), summarized, so a key listing tells whether
    /// anything was added or removed by hand.
    public var keys: KeySummary?
    /// The checks files passed or failed under (validation, include/exclude, key expansion): when
    /// they change, the next sync checks every file again instead of keeping old refusals.
    public var checks: String?

    public init(
        repo: String, branch: String, source: String, layout: String, commit: BundleCommit, previousCommit: String?,
        syncedAt: Int64, kind: String, bundleCount: Int, chunked: [String: [String]], errors: [SyncProblem], drift: [String]
    ) {
        self.repo = repo
        self.branch = branch
        self.source = source
        self.layout = layout
        self.commit = commit
        self.previousCommit = previousCommit
        self.syncedAt = syncedAt
        self.kind = kind
        self.bundleCount = bundleCount
        self.chunked = chunked
        self.errors = errors
        self.drift = drift
    }

    enum CodingKeys: String, CodingKey {
        case version, repo, branch, source, layout, commit, kind, chunked, errors, drift, keys, checks
        case previousCommit = "previous_commit"
        case syncedAt = "synced_at"
        case bundleCount = "bundle_count"
    }

    /// What version 1 kept instead of `bundle_count` and `chunked`.
    private enum LegacyKeys: String, CodingKey {
        case bundles
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        version = try container.decode(Int.self, forKey: .version)
        repo = try container.decode(String.self, forKey: .repo)
        branch = try container.decode(String.self, forKey: .branch)
        source = try container.decode(String.self, forKey: .source)
        layout = try container.decode(String.self, forKey: .layout)
        commit = try container.decode(BundleCommit.self, forKey: .commit)
        previousCommit = try container.decodeIfPresent(String.self, forKey: .previousCommit)
        syncedAt = try container.decode(Int64.self, forKey: .syncedAt)
        kind = try container.decode(String.self, forKey: .kind)
        errors = try container.decode([SyncProblem].self, forKey: .errors)
        drift = try container.decode([String].self, forKey: .drift)
        keys = try container.decodeIfPresent(KeySummary.self, forKey: .keys)
        checks = try container.decodeIfPresent(String.self, forKey: .checks)
        chunked = try container.decodeIfPresent([String: [String]].self, forKey: .chunked) ?? [:]
        if let count = try container.decodeIfPresent(Int.self, forKey: .bundleCount) {
            bundleCount = count
        } else {
            let legacy = try decoder.container(keyedBy: LegacyKeys.self)
            bundleCount = try legacy.decodeIfPresent([String: BundleRecord].self, forKey: .bundles)?.count ?? 0
        }
    }

    /// Written by a build that kept one record per bundle in the state.
    public var isLegacy: Bool { version < Self.currentVersion }

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
        guard (1...currentVersion).contains(state.version) else {
            throw SyncError(.unreadableState, "state version \(state.version) is not supported by this build (reads 1 to \(currentVersion))")
        }
        return state
    }
}

/// The names of a set of keys, summarized as their count and the XOR of their names'
/// SHA-256: order does not matter, and adding or removing one key updates it without the rest.
public struct KeySummary: Codable, Sendable, Equatable {
    public var count: Int
    /// Hex; named for what each key contributes.
    public var sha256: String

    public init<Keys: Sequence<String>>(_ keys: Keys) {
        var bits = [UInt8](repeating: 0, count: SHA256.byteCount)
        var count = 0
        for key in keys {
            Self.toggle(key, in: &bits)
            count += 1
        }
        self.count = count
        sha256 = SHA256Hex.hex(bits)
    }

    /// Adds a key that is not in the set.
    public mutating func insert(_ key: String) {
        update(key, by: 1)
    }

    /// Removes a key that is in the set.
    public mutating func remove(_ key: String) {
        update(key, by: -1)
    }

    private mutating func update(_ key: String, by change: Int) {
        var bits = Self.bytes(sha256)
        Self.toggle(key, in: &bits)
        sha256 = SHA256Hex.hex(bits)
        count += change
    }

    private static func toggle(_ key: String, in bits: inout [UInt8]) {
        for (position, byte) in SHA256.hash(data: Array(key.utf8)).enumerated() { bits[position] ^= byte }
    }

    private static func bytes(_ hex: String) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: SHA256.byteCount)
        let digits = Array(hex.utf8)
        for position in 0..<min(bytes.count, digits.count / 2) {
            bytes[position] = UInt8(String(decoding: digits[position * 2..<position * 2 + 2], as: UTF8.self), radix: 16) ?? 0
        }
        return bytes
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
