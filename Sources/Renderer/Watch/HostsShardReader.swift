public import BundleFormat
import KV

/// Sharded hosts data as a renderer holds it: the entities its outputs select, and the
/// domain their names are under.
public struct HeldHosts: Sendable {
    public var generation: UInt64
    public var domain: String
    public var entities: [HostsEntity]
}

/// Reads sharded hosts data (docs/bundle-format.md): given the manifest a watch delivered,
/// it reads only the shards whose generation moved since it last read them, and only those
/// its outputs' selection can need; of each it keeps only the selected entities. A shard
/// newer than the manifest means a publish is under way: the manifest is read again, so what
/// it assembles is always exactly one generation.
actor HostsShardReader {
    private struct Held {
        var count: Int
        var generations: [Int: UInt64] = [:]
        var entities: [Int: [HostsEntity]] = [:]
    }

    private let store: any KVStore
    private let consistency: KVReadOptions.Consistency
    private let selections: [String: HostsSelection?]
    private var held: [String: Held] = [:]
    static let attempts = 5
    static let concurrentReads = 16

    init(store: any KVStore, consistency: KVReadOptions.Consistency, selections: [String: HostsSelection?]) {
        self.store = store
        self.consistency = consistency
        self.selections = selections
    }

    func read(_ entry: KVEntry) async throws(RenderError) -> VerifiedBundle {
        let key = entry.key
        let selection = selections[key] ?? nil
        var manifest = try decodeManifest(entry.value, key: key)
        var modifyIndex = entry.modifyIndex
        for attempt in 1...Self.attempts {
            let count = manifest.shards.count
            var current = held[key].flatMap { $0.count == count ? $0 : nil } ?? Held(count: count)
            let needed = selection?.shards(of: count) ?? Set(0..<count)
            var stale: [Int] = []
            for index in needed.sorted() where current.generations[index] != manifest.shards[index] {
                if manifest.shards[index] == 0 {
                    // Generation 0: an empty shard, not stored.
                    current.generations[index] = 0
                    current.entities[index] = []
                } else {
                    stale.append(index)
                }
            }
            let shards = try await readShards(stale, of: count, key: key)
            var movedOn = false
            for (index, shard) in shards {
                if shard.generation > manifest.shards[index] {
                    movedOn = true
                    continue
                }
                guard shard.generation == manifest.shards[index] else {
                    throw RenderError(
                        .bundle,
                        "hosts data \(key) is rejected: shard \(index) is of generation \(shard.generation), the manifest of generation \(manifest.generation) names \(manifest.shards[index])")
                }
                current.generations[index] = shard.generation
                current.entities[index] = selection.map { selection in shard.entities.compactMap(selection.select) } ?? shard.entities
            }
            if movedOn {
                guard attempt < Self.attempts else { break }
                (manifest, modifyIndex) = try await rereadManifest(key)
                continue
            }
            for index in current.generations.keys where !needed.contains(index) {
                current.generations[index] = nil
                current.entities[index] = nil
            }
            let entities = needed.sorted().flatMap { current.entities[$0] ?? [] }
            let text = HostsText.render(entities, domain: manifest.domain)
            if selection == nil, SHA256Hex.of(text.utf8) != manifest.sha256 {
                held[key] = nil
                throw RenderError(.bundle, "hosts data \(key) is rejected: the shards of generation \(manifest.generation) do not add up to the manifest's sha256")
            }
            held[key] = current
            let bundle = ConfigBundle(
                source: BundleSource(repo: "git2kv-hosts", branch: "", path: key),
                commit: BundleCommit(id: "generation-\(manifest.generation)", author: manifest.author, email: "", time: manifest.time, summary: manifest.summary),
                files: [BundleFile(path: manifest.file, content: Array(text.utf8))])
            return VerifiedBundle(
                key: key, bundle: bundle, modifyIndex: modifyIndex,
                hosts: HeldHosts(generation: manifest.generation, domain: manifest.domain, entities: entities))
        }
        throw RenderError(.kv, "hosts data \(key) kept moving while its shards were read (\(Self.attempts) attempts); the next change reads it again")
    }

    private func decodeManifest(_ value: [UInt8], key: String) throws(RenderError) -> HostsManifest {
        do {
            return try HostsManifest.decode(value)
        } catch {
            throw RenderError(.bundle, "hosts data \(key) is rejected: \(error)")
        }
    }

    private func rereadManifest(_ key: String) async throws(RenderError) -> (HostsManifest, UInt64) {
        let entry: KVEntry?
        do {
            entry = try await store.get(key, options: KVReadOptions(consistency: consistency)).value
        } catch {
            throw RenderError(.kv, "cannot read hosts data \(key): \(error)")
        }
        guard let entry else { throw RenderError(.missing, "bundle \(key) does not exist in KV") }
        return (try decodeManifest(entry.value, key: key), entry.modifyIndex)
    }

    /// The shards at `indexes`, read at most `concurrentReads` at a time, each decoded and checked.
    private func readShards(_ indexes: [Int], of count: Int, key: String) async throws(RenderError) -> [(Int, HostsShard)] {
        let store = store
        let options = KVReadOptions(consistency: consistency)
        let reads = await concurrentMap(indexes, width: Self.concurrentReads) { index -> Result<HostsShard, RenderError> in
            let shardKey = HostsManifest.shardKey(index, of: count, besideHostsKey: key)
            let value: KVEntry?
            do {
                value = try await store.get(shardKey, options: options).value
            } catch {
                return .failure(RenderError(.kv, "cannot read hosts shard \(shardKey): \(error)"))
            }
            guard let value else { return .failure(RenderError(.bundle, "hosts data \(key) is rejected: shard \(shardKey) is missing")) }
            let shard: HostsShard
            do {
                shard = try HostsShard.decode(value.value)
            } catch {
                return .failure(RenderError(.bundle, "hosts data \(key) is rejected: \(shardKey): \(error)"))
            }
            guard shard.index == index, shard.count == count else {
                return .failure(RenderError(.bundle, "hosts data \(key) is rejected: \(shardKey) says it is shard \(shard.index) of \(shard.count)"))
            }
            return .success(shard)
        }
        var shards: [(Int, HostsShard)] = []
        for (index, read) in zip(indexes, reads) {
            switch read {
            case .success(let shard): shards.append((index, shard))
            case .failure(let error): throw error
            }
        }
        return shards
    }
}
