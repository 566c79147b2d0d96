import Foundation
public import GitKit
public import KV

/// What `git2kv status` shows for one mapping: the live commit (from the state key) against
/// the branch head, how far behind, when it last synced and the errors holding bundles back.
public struct MappingStatus: Sendable, Codable {
    public var repo: String
    public var reference: String
    public var source: String
    public var prefix: String
    public var liveCommit: String?
    public var liveSummary: String?
    public var head: String?
    public var commitsBehind: Int?
    public var syncedAt: Int64?
    public var bundles: Int
    public var errors: [SyncProblem]
    /// Why the status could not be read completely (KV or git unreachable, unreadable state).
    public var problem: String?
    public var neverSynced = false
    /// What wrote the live state: `sync`, `full-compare` or `rollback`.
    public var kind: String?
    /// Set while the prefix is frozen.
    public var frozen: FreezeRecord?
    /// Keys the last check for drift repaired (hand edits, deleted or stray keys), kept until a
    /// check finds none.
    public var drift: [String] = []
    /// With a staged rollout: the commit held at the canary stage (nil when none).
    public var rollout: RolloutStage?

    enum CodingKeys: String, CodingKey {
        case repo, reference, source, prefix, head, bundles, errors, problem, kind, frozen, drift, rollout
        case neverSynced = "never_synced"
        case liveCommit = "live_commit"
        case liveSummary = "live_summary"
        case commitsBehind = "commits_behind"
        case syncedAt = "synced_at"
    }

    /// A status that could not be read at all; `problem` says why.
    public static func unreadable(_ target: MappingTarget) -> MappingStatus {
        MappingStatus(repo: target.repo, reference: target.reference, source: target.mapping.source, prefix: target.prefix, bundles: 0, errors: [])
    }

    public static func read(target: MappingTarget, kv: any KVStore, repository: GitRepository?) async -> MappingStatus {
        var status = MappingStatus(
            repo: target.repo, reference: target.reference, source: target.mapping.source, prefix: target.prefix, bundles: 0, errors: [])
        var head: ObjectID?
        if let repository {
            head = try? await target.isTag ? repository.resolveTag(target.reference) : repository.resolveBranch(target.reference)
            status.head = head?.hex
            if head == nil {
                status.problem =
                    "\(target.isTag ? "tag" : "branch") \(target.reference) is not in the mirror: deleted upstream, or never fetched (check the repo's url and credentials)"
            }
        }
        do {
            if let entry = try await kv.get(target.freezeKey).value { status.frozen = FreezeRecord.decode(entry.value) }
            if target.mapping.rollout != nil, let entry = try await kv.get(target.rolloutKey).value {
                status.rollout = try RolloutStage.decode(entry.value, key: target.rolloutKey)
            }
            guard let entry = try await kv.get(target.stateKey).value else {
                status.neverSynced = true
                return status
            }
            let state = try SyncState.decode(entry.value)
            status.liveCommit = state.commit.id
            status.liveSummary = state.commit.summary
            status.syncedAt = state.syncedAt
            status.kind = state.kind
            status.bundles = state.bundleCount
            status.errors = state.errors
            status.drift = state.drift
            if let repository, let head, let live = ObjectID(hex: state.commit.id) {
                status.commitsBehind = try? await repository.distance(from: live, to: head).behind
            }
        } catch let error as KVError {
            status.problem = "cannot read \(target.stateKey): \(error)"
        } catch {
            status.problem = "\(error)"
        }
        return status
    }

    public var text: String {
        var lines = ["\(repo)@\(reference) \(source.isEmpty ? "/" : source) → \(prefix)"]
        if let liveCommit {
            lines.append("  live:   \(liveCommit.prefix(12)) \(liveSummary.map { "\"\($0)\"" } ?? "") (\(bundles) bundle(s))")
        }
        if let head {
            let behind = commitsBehind.map { $0 == 0 ? "up to date" : "\($0) commit(s) behind" } ?? "not comparable with the live commit"
            lines.append("  head:   \(head.prefix(12)) (\(liveCommit == nil ? "not synced" : behind))")
        }
        if let syncedAt {
            lines.append("  synced: \(Self.format(syncedAt))" + (kind == "rollback" ? " (rollback)" : ""))
        }
        if let frozen { lines.append("  \(frozen.summary)") }
        if let rollout {
            var line = "  rollout: \(rollout.summary)"
            if let halt = rollout.halted { line += "; halted: \(halt.reason)" }
            lines.append(line + " (`git2kv status --rollout \(prefix)` lists the nodes)")
        }
        for error in errors { lines.append("  error:  \(error)") }
        for repair in drift { lines.append("  repaired: \(repair)") }
        if neverSynced { lines.append("  never synced (no \(prefix)/.git2kv/state)") }
        if let problem { lines.append("  problem: \(problem)") }
        return lines.joined(separator: "\n")
    }

    static func format(_ seconds: Int64) -> String {
        let formatter = ISO8601DateFormatter()
        return formatter.string(from: Date(timeIntervalSince1970: TimeInterval(seconds)))
    }
}
