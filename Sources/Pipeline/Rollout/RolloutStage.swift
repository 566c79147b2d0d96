import Foundation
import KV

/// The value of `<prefix>/.git2kv/rollout` while a staged rollout holds a commit back from the
/// fleet: the commit the canary keys carry, what was live when it was staged, and how far the
/// stage got. Everything a leader needs to resume the stage is here (a follower that takes
/// over reads it, not its memory).
public struct RolloutStage: Codable, Sendable, Equatable {
    public struct Halt: Codable, Sendable, Equatable {
        public var reason: String
        /// Seconds since 1970.
        public var at: Int64

        public init(reason: String, at: Int64) {
            self.reason = reason
            self.at = at
        }
    }

    public var version = 1
    /// The commit canary nodes render.
    public var commit: String
    /// The commit the fleet still renders (the state's when the stage was written).
    public var liveCommit: String?
    /// The bundles with a canary value.
    public var bundles: [String]
    /// Seconds since 1970 when the canary values were written.
    public var startedAt: Int64
    /// When enough canary nodes had delivered the commit: the bake runs from here.
    public var bakingSince: Int64?
    /// Set when a canary failed and the prefix was frozen; an unfreeze then sends the commit on.
    public var halted: Halt?
    /// The replica that wrote it, for the audit trail.
    public var host: String

    public init(commit: String, liveCommit: String?, bundles: [String], startedAt: Int64, host: String) {
        self.commit = commit
        self.liveCommit = liveCommit
        self.bundles = bundles
        self.startedAt = startedAt
        self.host = host
    }

    enum CodingKeys: String, CodingKey {
        case version, commit, bundles, halted, host
        case liveCommit = "live_commit"
        case startedAt = "started_at"
        case bakingSince = "baking_since"
    }

    /// `canary`, `baking` or `halted`, for status, metrics and logs.
    public var phase: String { halted != nil ? "halted" : bakingSince != nil ? "baking" : "canary" }

    public func encoded() -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array((try? encoder.encode(self)) ?? Data())
    }

    /// `phase commit on canary nodes since …[, baking since …]`, as both statuses print it.
    public var summary: String {
        var text = "\(phase) \(commit.prefix(12)) on canary nodes since \(MappingStatus.format(startedAt))"
        if let since = bakingSince { text += ", baking since \(MappingStatus.format(since))" }
        return text
    }

    /// The stage under `target`'s prefix and its modify index (the CAS guard of a write), nil
    /// when there is none.
    static func read(_ target: MappingTarget, from kv: any KVStore) async throws(SyncError) -> (stage: RolloutStage, index: UInt64)? {
        let read = try await KVCall.run("read \(target.rolloutKey)") { () throws(KVError) in try await kv.get(target.rolloutKey) }
        guard let entry = read.value else { return nil }
        return (try decode(entry.value, key: target.rolloutKey), entry.modifyIndex)
    }

    public static func decode(_ bytes: [UInt8], key: String) throws(SyncError) -> RolloutStage {
        do {
            return try JSONDecoder().decode(RolloutStage.self, from: Data(bytes))
        } catch {
            throw SyncError(.unreadableState, "\(key) is not a rollout stage (\(error)); delete it to drop the stage")
        }
    }
}
