public import BundleFormat
public import KV
import Foundation

/// What a sharded publish left in KV, so the next one compares against it without reading
/// every shard back.
public struct PublishedHosts: Sendable, Equatable {
    public var manifest: HostsManifest
    /// Per shard, the digest of its entities (empty for a shard that must be written again).
    public var digests: [String]
    /// The newest generation any shard carries (a generator that died mid-publish can leave
    /// shards newer than the manifest; the next generation must be above them).
    public var newestShard: UInt64
}

/// Publishes hosts entities as sharded hosts data (docs/bundle-format.md): the entities are
/// spread over `shardCount` shards by the hash of their names; only shards whose entities
/// changed are written, then the manifest, every transaction carrying the guards. An empty
/// shard is not stored (generation 0 in the manifest). Nothing is written while the stop key
/// exists or when the file would be shorter than `min_lines`.
public struct ShardedHostsPublisher: Sendable {
    public let store: any KVStore
    public let key: String
    public let fileName: String
    public let domain: String
    public let shardCount: Int
    public let minLines: MinLinesRule
    public let stopKey: String?
    public let owner: String

    public init(
        store: any KVStore, key: String, fileName: String, domain: String, shardCount: Int, minLines: MinLinesRule, stopKey: String?, owner: String
    ) {
        self.store = store
        self.key = key
        self.fileName = fileName
        self.domain = domain
        self.shardCount = shardCount
        self.minLines = minLines
        self.stopKey = stopKey
        self.owner = owner
    }

    /// Publishes `entities` when they differ from what KV holds. `known` is what this
    /// publisher last left there (nil: read it from KV); it is updated on success and
    /// cleared on failure.
    public func publish(
        _ entities: [HostsEntity], summary: String, guards: [KVOperation], known: inout PublishedHosts?
    ) async throws(RenderError) -> PublishOutcome {
        if let reason = try await store.stopReason(stopKey) { return .stopped(reason: reason) }
        let content = Array(HostsText.render(entities, domain: domain).utf8)
        try minLines.check(content, file: fileName, key: key)
        let lines = OutputContent.lineCount(content)
        let sha256 = SHA256Hex.of(content)
        var shards = [[HostsEntity]](repeating: [], count: shardCount)
        for entity in entities { shards[HostsEntity.shard(kind: entity.kind, name: entity.name, count: shardCount)].append(entity) }
        let digests = shards.map { $0.isEmpty ? "" : HostsShard.digest(of: $0) }

        let current = try await store.publishRead(key, what: "hosts data")
        let previous = try await previousPublish(current, known: known)
        known = nil
        let sameShape = previous.map { $0.manifest.shards.count == shardCount } ?? false
        let changed = (0..<shardCount).filter { index in
            guard sameShape, let previous else { return !shards[index].isEmpty }
            if shards[index].isEmpty { return previous.manifest.shards[index] != 0 }
            return previous.digests[index] != digests[index] || previous.manifest.shards[index] == 0
        }
        if let previous, sameShape, changed.isEmpty, previous.manifest.sha256 == sha256, previous.manifest.file == fileName,
            previous.manifest.domain == domain
        {
            known = previous
            return .unchanged(digest: sha256)
        }
        let generation = max(previous?.manifest.generation ?? 0, previous?.newestShard ?? 0) + 1
        var shardGenerations = sameShape ? previous?.manifest.shards ?? [] : [UInt64](repeating: 0, count: shardCount)
        var operations: [KVOperation] = []
        let valueLimit = TransactionPacker.largestValue(store.limits)
        for index in changed {
            let shardKey = HostsManifest.shardKey(index, of: shardCount, besideHostsKey: key)
            guard !shards[index].isEmpty else {
                shardGenerations[index] = 0
                operations.append(.delete(key: shardKey))
                continue
            }
            let value: [UInt8]
            do {
                value = try HostsShard(generation: generation, index: index, count: shardCount, entities: shards[index]).encode()
            } catch {
                throw RenderError(.bundle, "cannot encode hosts shard \(index) of \(key): \(error)")
            }
            guard value.count <= valueLimit else {
                throw RenderError(
                    .guardFailed, "hosts shard \(index) of \(key) is \(value.count) bytes, over the store's value limit of \(valueLimit); raise shards (now \(shardCount))")
            }
            shardGenerations[index] = generation
            operations.append(.set(key: shardKey, value: value))
        }
        let manifest = HostsManifest(
            generation: generation, file: fileName, domain: domain, shards: shardGenerations, sha256: sha256, lines: lines, author: owner,
            time: Int64(Date().timeIntervalSince1970), summary: summary)
        let manifestValue: [UInt8]
        do {
            manifestValue = try manifest.encode()
        } catch {
            throw RenderError(.bundle, "cannot encode the hosts manifest of \(key): \(error)")
        }
        // Shards first: a reader that meets a shard newer than its manifest reads the manifest
        // again; the manifest goes last, with a compare-and-set on what was read.
        let packer = TransactionPacker(limits: store.limits)
        for transaction in packer.pack(operations, guards: guards, last: .cas(key: key, value: manifestValue, index: current?.modifyIndex ?? 0)) {
            try await store.publishWrite(transaction, what: "hosts data \(key)")
        }
        if let previous, !sameShape {
            let stale = previous.manifest.shards.indices.filter { previous.manifest.shards[$0] != 0 }.map {
                KVOperation.delete(key: HostsManifest.shardKey($0, of: previous.manifest.shards.count, besideHostsKey: key))
            }
            // Left behind on failure; nothing reads a set of another shard count.
            for transaction in packer.pack(stale, guards: guards, last: nil) { try? await store.publishWrite(transaction, what: "old hosts shards of \(key)") }
        }
        known = PublishedHosts(manifest: manifest, digests: digests, newestShard: generation)
        return .published(digest: sha256)
    }

    /// What KV holds now: `known` when the manifest is the one it describes, otherwise the
    /// manifest and every shard it names, read back. A bundle left by `layout: bundle` is
    /// replaced; one that `git2kv sync` or `publish` wrote is not.
    private func previousPublish(_ current: KVEntry?, known: PublishedHosts?) async throws(RenderError) -> PublishedHosts? {
        guard let current else { return nil }
        guard HostsShardWire.isManifest(current.value) else {
            if let repo = try? await BundleReader(store: store).verify(current).bundle.source.repo, repo != "git2kv-hosts" {
                throw RenderError(.guardFailed, "\(key) holds a bundle from \(repo); hosts refuses to write over it")
            }
            return nil
        }
        let manifest: HostsManifest
        do {
            manifest = try HostsManifest.decode(current.value)
        } catch {
            return nil  // unreadable: written anew
        }
        if let known, known.manifest == manifest { return known }
        var digests = [String](repeating: "", count: manifest.shards.count)
        var newest: UInt64 = 0
        for index in manifest.shards.indices where manifest.shards[index] != 0 {
            let shardKey = HostsManifest.shardKey(index, of: manifest.shards.count, besideHostsKey: key)
            guard let entry = try await store.publishRead(shardKey, what: "hosts shard"), let shard = try? HostsShard.decode(entry.value) else { continue }
            newest = max(newest, shard.generation)
            if shard.generation == manifest.shards[index], shard.index == index { digests[index] = HostsShard.digest(of: shard.entities) }
        }
        return PublishedHosts(manifest: manifest, digests: digests, newestShard: newest)
    }
}
