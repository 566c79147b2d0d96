import Foundation
import GitKit
import KV
import ConfigParsing

/// `freeze`, `unfreeze` and `rollback` of one mapping prefix, shared by the CLI and the daemon.
public struct PrefixControl: Sendable {
    public let runner: SyncRunner

    public init(config: DaemonConfig, fetcher: MirrorFetcher = .inProcess) {
        runner = SyncRunner(config: config, fetcher: fetcher)
    }

    /// The repository and mapping target whose prefix is `prefix` (a branch's, or a synced tag's).
    public func locate(_ prefix: String) async throws(SyncError) -> (repo: RepoConfig, target: MappingTarget) {
        let wanted = prefix.hasSuffix("/") ? String(prefix.dropLast()) : prefix
        for repo in runner.config.repos {
            for branch in repo.branches {
                if let target = runner.targets(of: repo, reference: branch, isTag: false).first(where: { $0.prefix == wanted }) {
                    return (repo, target)
                }
            }
        }
        for repo in runner.config.repos where !repo.tags.isEmpty {
            let found = try await runner.withMirror(of: repo) { repository throws(SyncError) -> MappingTarget? in
                for (reference, isTag) in await runner.references(of: repo, in: repository) where isTag {
                    if let target = runner.targets(of: repo, reference: reference, isTag: true).first(where: { $0.prefix == wanted }) {
                        return target
                    }
                }
                return nil
            }
            if let found { return (repo, found) }
        }
        let known = runner.config.repos.flatMap { repo in repo.branches.flatMap { branch in repo.mappings.map { $0.prefix(for: branch) } } }
        throw SyncError(.outsidePrefix, "no mapping writes the prefix \(wanted) (configured: \(known.joined(separator: ", ")))")
    }

    /// Freezes the prefix: every replica skips it until `unfreeze`. Returns the record written.
    @discardableResult
    public func freeze(_ prefix: String, reason: String, rollbackTo: String? = nil) async throws(SyncError) -> FreezeRecord {
        try await freeze(try await locate(prefix).target, reason: reason, rollbackTo: rollbackTo)
    }

    @discardableResult
    private func freeze(_ target: MappingTarget, reason: String, rollbackTo: String?) async throws(SyncError) -> FreezeRecord {
        let record = FreezeRecord(
            reason: reason, frozenAt: Int64(Date().timeIntervalSince1970), host: ProcessInfo.processInfo.hostName, rollbackTo: rollbackTo)
        let kv = try KVConnection.openForSync(runner.config.kv, token: target.mapping.token)
        _ = try await KVCall.run("write \(target.freezeKey)") { () throws(KVError) in
            try await kv.put(target.freezeKey, value: record.encoded(), flags: 0, cas: nil)
        }
        return record
    }

    /// Lifts the freeze; returns what it was, or nil when the prefix was not frozen.
    public func unfreeze(_ prefix: String) async throws(SyncError) -> FreezeRecord? {
        let (_, target) = try await locate(prefix)
        let kv = try KVConnection.openForSync(runner.config.kv, token: target.mapping.token)
        let current = try await KVCall.run("read \(target.freezeKey)") { () throws(KVError) in try await kv.get(target.freezeKey) }
        guard let entry = current.value else { return nil }
        _ = try await KVCall.run("delete \(target.freezeKey)") { () throws(KVError) in
            try await kv.delete(target.freezeKey, cas: entry.modifyIndex)
        }
        return FreezeRecord.decode(entry.value)
    }

    /// Freezes the prefix and writes `commit`'s bundles through the normal atomic path, recorded
    /// as a rollback in the state. The prefix stays frozen until unfrozen.
    public func rollback(_ prefix: String, to commit: String, reason: String?, fetch: Bool) async throws(SyncError) -> MappingResult {
        let (repo, target) = try await locate(prefix)
        return try await runner.withMirror(of: repo) { repository throws(SyncError) in
            var id = try? await repository.resolveCommit(commit)
            if id == nil, fetch {
                try await runner.fetch(repo, into: repository)
                id = try? await repository.resolveCommit(commit)
            }
            guard let id else {
                throw SyncError(.missingReference, "\(commit) is not a commit of \(repo.name) (\(repo.url))")
            }
            try await freeze(target, reason: reason ?? "rollback to \(id.short)", rollbackTo: id.hex)
            let kv = try KVConnection.openForSync(runner.config.kv, token: target.mapping.token)
            let sync = MappingSync(target: target, kv: kv, address: runner.config.kv.address, repository: repository, records: runner.records)
            return try await sync.run(head: id, options: SyncOptions(purpose: .rollback))
        }
    }
}
