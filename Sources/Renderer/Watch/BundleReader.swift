public import BundleFormat
public import KV

/// A bundle read from KV and verified: every file's checksum and the digest matched.
public struct VerifiedBundle: Sendable {
    public var key: String
    public var bundle: ConfigBundle
    /// The KV modify index of the value it came from.
    public var modifyIndex: UInt64
    /// For sharded hosts data, the entities held (what the key's outputs select).
    public var hosts: HeldHosts?

    public init(key: String, bundle: ConfigBundle, modifyIndex: UInt64, hosts: HeldHosts? = nil) {
        self.key = key
        self.bundle = bundle
        self.modifyIndex = modifyIndex
        self.hosts = hosts
    }
}

/// Turns a bundle key's value into a verified bundle, reassembling chunked bundles from
/// `<prefix>/.git2kv/chunks/` (the prefix is the key's parent, where the sync put them), and
/// sharded hosts data from the shards its manifest names.
public struct BundleReader: Sendable {
    let store: any KVStore
    let consistency: KVReadOptions.Consistency
    private let hosts: HostsShardReader

    /// `hostsSelections`: per key, what its outputs select of sharded hosts data (absent: all).
    public init(store: any KVStore, consistency: KVReadOptions.Consistency = .default, hostsSelections: [String: HostsSelection?] = [:]) {
        self.store = store
        self.consistency = consistency
        hosts = HostsShardReader(store: store, consistency: consistency, selections: hostsSelections)
    }

    /// The reader a renderer configuration asks for: its `watch.stale` and its outputs' hosts selections.
    init(store: any KVStore, config: RendererConfig) {
        self.init(store: store, consistency: config.watch.stale ? .stale : .default, hostsSelections: config.hostsSelections)
    }

    /// Reads the key once.
    public func read(_ key: String) async throws(RenderError) -> VerifiedBundle {
        let entry: KVEntry?
        do {
            entry = try await store.get(key, options: KVReadOptions(consistency: consistency)).value
        } catch {
            throw RenderError(.kv, "cannot read bundle \(key): \(error)")
        }
        guard let entry else { throw RenderError(.bundle, "bundle \(key) does not exist in KV") }
        return try await verify(entry)
    }

    /// Verifies a value the watch delivered.
    public func verify(_ entry: KVEntry) async throws(RenderError) -> VerifiedBundle {
        if HostsShardWire.isManifest(entry.value) { return try await hosts.read(entry) }
        var value = entry.value
        if value.starts(with: BundleWire.manifestMagic) {
            value = try await assemble(key: entry.key, manifestValue: value)
        }
        do {
            let bundle = try BundleDecoder.decode(value)
            return VerifiedBundle(key: entry.key, bundle: bundle, modifyIndex: entry.modifyIndex)
        } catch {
            throw RenderError(.bundle, "bundle \(entry.key) is rejected: \(error)")
        }
    }

    private func assemble(key: String, manifestValue: [UInt8]) async throws(RenderError) -> [UInt8] {
        let manifest: ChunkManifest
        do {
            manifest = try ChunkManifest.decode(manifestValue)
        } catch {
            throw RenderError(.bundle, "bundle \(key) is rejected: \(error)")
        }
        var chunks: [String: [UInt8]] = [:]
        for chunk in manifest.chunks where chunks[chunk.sha256] == nil {
            let chunkKey = ChunkManifest.chunkKey(chunk.sha256, besideBundleKey: key)
            do {
                if let entry = try await store.get(chunkKey, options: KVReadOptions(consistency: consistency)).value {
                    chunks[chunk.sha256] = entry.value
                }
            } catch {
                throw RenderError(.kv, "cannot read chunk \(chunkKey) of bundle \(key): \(error)")
            }
        }
        do {
            return try manifest.assemble(chunks)
        } catch {
            throw RenderError(.bundle, "bundle \(key) is rejected: \(error)")
        }
    }
}
