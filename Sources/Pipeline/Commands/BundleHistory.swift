import BundleFormat
import Foundation
public import GitKit
public import KV

/// `git2kv history <prefix>/<bundle>`: the live value's commit tied to the git log of the
/// bundle's files, newest first, with the commit whose content is live marked.
public struct BundleHistory: Sendable {
    public struct Entry: Sendable {
        public let commit: CommitInfo
        public let isLive: Bool
    }

    public let key: String
    public let target: MappingTarget
    public let bundle: String
    /// The commit recorded in the live value, when the key exists.
    public let liveCommit: CommitInfo?
    public let liveCommitID: String?
    public let entries: [Entry]

    /// The mapping and bundle a key belongs to, for the configured branches and tags.
    public static func locate(_ key: String, in config: DaemonConfig) -> (MappingTarget, String)? {
        let trimmed = key.hasSuffix("/") ? String(key.dropLast()) : key
        for repo in config.repos {
            for (reference, isTag) in repo.branches.map({ ($0, false) }) + repo.tags.map({ ($0, true) }) {
                for mapping in repo.mappings {
                    let target = MappingTarget(repo: repo.name, reference: reference, isTag: isTag, mapping: mapping)
                    if let name = target.bundleName(ofKey: trimmed), !name.isEmpty { return (target, name) }
                }
            }
        }
        return nil
    }

    public static func read(
        key: String, target: MappingTarget, bundle: String, kv: any KVStore, repository: GitRepository, limit: Int = 50
    ) async throws(SyncError) -> BundleHistory {
        let value = try await KVCall.run("read \(key)") { () throws(KVError) in try await kv.get(key) }.value
        let liveID = value.flatMap { StoredValue($0.value) }?.commit
        let head = try await GitCall.run { () throws(GitError) in
            try await target.isTag ? repository.resolveTag(target.reference) : repository.resolveBranch(target.reference)
        }
        let directory = BundleLayout(bundleBy: target.mapping.bundleBy).directory(of: bundle, source: target.mapping.source)
        let log = try await GitCall.run { () throws(GitError) in try await repository.commits(touching: [directory], from: head, limit: limit) }
        var liveInfo: CommitInfo?
        var contentCommit: ObjectID?
        if let liveID, let live = ObjectID(hex: liveID), await repository.containsCommit(live) {
            liveInfo = try? await repository.commit(live)
            // The value names the commit it was written at; its content comes from the newest
            // commit at or before it that touched the bundle's files.
            contentCommit = try? await repository.commits(touching: [directory], from: live, limit: 1).first?.id
        }
        return BundleHistory(
            key: key, target: target, bundle: bundle, liveCommit: liveInfo, liveCommitID: liveID,
            entries: log.map { Entry(commit: $0, isLive: $0.id == contentCommit) })
    }

    public var text: String {
        var lines: [String] = []
        if let liveCommit {
            lines.append("\(key): live at \(liveCommit.id.short) \"\(liveCommit.summary)\" by \(liveCommit.author.name), \(MappingStatus.format(liveCommit.author.time))")
        } else if let liveCommitID {
            lines.append("\(key): live at \(liveCommitID.prefix(12)) (not in the local mirror)")
        } else {
            lines.append("\(key): no live value")
        }
        for entry in entries {
            let marker = entry.isLive ? "* " : "  "
            let commit = entry.commit
            lines.append("\(marker)\(commit.id.short) \(MappingStatus.format(commit.author.time)) \(commit.author.name): \(commit.summary)\(entry.isLive ? "  ← live" : "")")
        }
        return lines.joined(separator: "\n")
    }
}
