/// The small value at a sharded hosts key: which generation of the hosts data is live, and
/// in which generation each shard last changed. A node compares the shard generations with
/// those it holds and reads only the shards that moved.
public struct HostsManifest: Codable, Hashable, Sendable {
    /// Grows by one with every publish.
    public var generation: UInt64
    /// The file name renderers deliver (`file:` in a render output).
    public var file: String
    public var domain: String
    /// Per shard, the generation it was last written in; the shard count is its length.
    public var shards: [UInt64]
    /// sha256 of the whole hosts file (every shard's entities rendered together).
    public var sha256: String
    public var lines: Int
    /// Who published it (the generator's lock), when, and from what.
    public var author: String
    public var time: Int64
    public var summary: String

    public init(
        generation: UInt64, file: String, domain: String, shards: [UInt64], sha256: String, lines: Int, author: String, time: Int64,
        summary: String
    ) {
        self.generation = generation
        self.file = file
        self.domain = domain
        self.shards = shards
        self.sha256 = sha256
        self.lines = lines
        self.author = author
        self.time = time
        self.summary = summary
    }

    /// Largest shard count a manifest may announce.
    public static let maxShards = 4096

    /// Where shard `index` of the hosts data at `key` lives: `.git2kv/shards/<name>/<count>/<index>`
    /// under the key's parent (the count is in the path, so a reshard writes a fresh set).
    public static func shardKey(_ index: Int, of count: Int, besideHostsKey key: String) -> String {
        let name = key.split(separator: "/", omittingEmptySubsequences: false).last ?? ""
        return KeyPlacement.beside(key, ".git2kv/shards/\(name)/\(count)/\(index)")
    }

    public func encode() throws(BundleError) -> [UInt8] {
        HostsShardWire.manifestMagic + [BundleWire.version] + (try Zlib.compress(CanonicalJSON.encode(self)))
    }

    public static func decode(_ value: some Collection<UInt8>, limits: BundleLimits = .default) throws(BundleError) -> HostsManifest {
        let json = try HostsShardWire.open(value, magic: HostsShardWire.manifestMagic, what: "hosts manifest", limits: limits)
        let manifest = try CanonicalJSON.decode(HostsManifest.self, from: json[...], what: "hosts manifest")
        guard (1...maxShards).contains(manifest.shards.count) else {
            throw BundleError(.corrupt, "hosts manifest announces \(manifest.shards.count) shards (1 to \(maxShards) are allowed)")
        }
        if let newer = manifest.shards.first(where: { $0 > manifest.generation }) {
            throw BundleError(.corrupt, "hosts manifest of generation \(manifest.generation) names a shard of generation \(newer)")
        }
        guard SHA256Hex.isWellFormed(manifest.sha256), !manifest.file.isEmpty else {
            throw BundleError(.corrupt, "hosts manifest lacks its file name or sha256")
        }
        return manifest
    }
}

/// One shard of sharded hosts data: the entities whose names hash to it.
public struct HostsShard: Codable, Hashable, Sendable {
    /// The generation this shard was written in (the manifest names it).
    public var generation: UInt64
    public var index: Int
    public var count: Int
    /// Sorted by kind, then name; each one hashes to `index`.
    public var entities: [HostsEntity]

    public init(generation: UInt64, index: Int, count: Int, entities: [HostsEntity]) {
        self.generation = generation
        self.index = index
        self.count = count
        self.entities = entities
    }

    public func encode() throws(BundleError) -> [UInt8] {
        HostsShardWire.shardMagic + [BundleWire.version] + (try Zlib.compress(CanonicalJSON.encode(self)))
    }

    /// Decodes and checks a shard: every name a DNS label, every address fit for a hosts line
    /// (a forged value cannot add lines), every entity in the shard its name hashes to.
    public static func decode(_ value: some Collection<UInt8>, limits: BundleLimits = .default) throws(BundleError) -> HostsShard {
        let json = try HostsShardWire.open(value, magic: HostsShardWire.shardMagic, what: "hosts shard", limits: limits)
        let shard = try CanonicalJSON.decode(HostsShard.self, from: json[...], what: "hosts shard")
        guard (1...HostsManifest.maxShards).contains(shard.count), (0..<shard.count).contains(shard.index) else {
            throw BundleError(.corrupt, "hosts shard \(shard.index) of \(shard.count) is out of range")
        }
        for entity in shard.entities {
            guard HostsText.label(entity.name) == entity.name else {
                throw BundleError(.corrupt, "hosts shard \(shard.index) names \(entity.name.debugDescription), which is not a DNS label")
            }
            guard HostsEntity.shard(kind: entity.kind, name: entity.name, count: shard.count) == shard.index else {
                throw BundleError(.corrupt, "hosts shard \(shard.index) holds \(entity.kind.rawValue) \(entity.name), which belongs to another shard")
            }
            for address in entity.addresses {
                guard HostsText.isAddress(address.address), address.tags.allSatisfy({ HostsText.label($0) == $0 }) else {
                    throw BundleError(.corrupt, "hosts shard \(shard.index): \(entity.kind.rawValue) \(entity.name) has a malformed address or tag")
                }
            }
        }
        return shard
    }

    /// sha256 of what the shard says, generation aside: equal entities, equal digests.
    public static func digest(of entities: [HostsEntity]) -> String {
        SHA256Hex.of(CanonicalJSON.encode(entities))
    }
}

/// Markers of the sharded hosts values (docs/bundle-format.md).
public enum HostsShardWire {
    /// "G2KH": a hosts manifest.
    public static let manifestMagic: [UInt8] = Array("G2KH".utf8)
    /// "G2KS": one hosts shard.
    public static let shardMagic: [UInt8] = Array("G2KS".utf8)

    public static func isManifest(_ value: some Collection<UInt8>) -> Bool { value.starts(with: manifestMagic) }

    static func open(_ value: some Collection<UInt8>, magic: [UInt8], what: String, limits: BundleLimits) throws(BundleError) -> [UInt8] {
        let bytes = Array(value)
        guard bytes.starts(with: magic) else {
            throw BundleError(.notABundle, "value does not start with the \(what) marker \(String(decoding: magic, as: UTF8.self))")
        }
        guard bytes.count > magic.count + 1 else { throw BundleError(.truncated, "\(what) ends after its marker") }
        guard bytes[magic.count] == BundleWire.version else {
            throw BundleError(
                .unsupportedVersion, "\(what) format version \(bytes[magic.count]) is not supported (this build reads version \(BundleWire.version))")
        }
        return try Zlib.inflate(bytes[(magic.count + 1)...], limit: limits.maxDecodedSize)
    }
}
