/// How a bundle value is stored: as is, or as a manifest plus chunks when it is over the value limit.
public enum StoredBundle: Sendable, Equatable {
    case single(value: [UInt8])
    case chunked(manifest: ChunkManifest, chunks: [Chunk])

    /// The value stored at the bundle's own key.
    public var keyValue: [UInt8] {
        switch self {
        case .single(let value): value
        case .chunked(let manifest, _): manifest.encode()
        }
    }
}

/// A piece of a chunked bundle value, stored at `.git2kv/chunks/<sha256>` under the mapping prefix.
public struct Chunk: Sendable, Hashable {
    public var sha256: String
    public var bytes: [UInt8]

    public var key: String { ChunkManifest.chunkKey(sha256) }
}

public enum BundleChunker {
    /// Encodes a bundle and, when the value is larger than `valueLimit`, splits it into chunks of
    /// at most `chunkSize` bytes. Identical chunks are stored once.
    public static func store(_ bundle: ConfigBundle, valueLimit: Int, chunkSize: Int) throws(BundleError) -> StoredBundle {
        let value = try BundleEncoder.encode(bundle)
        guard value.count > valueLimit else { return .single(value: value) }
        return split(value, digest: bundle.digest, commit: bundle.commit.id, chunkSize: chunkSize)
    }

    public static func split(_ value: [UInt8], digest: String, commit: String, chunkSize: Int) -> StoredBundle {
        precondition(chunkSize > 0, "chunk size must be positive")
        var references: [ChunkReference] = []
        var chunks: [Chunk] = []
        var seen: Set<String> = []
        var start = 0
        while start < value.count {
            let end = min(start + chunkSize, value.count)
            let bytes = Array(value[start..<end])
            let sha = SHA256Hex.of(bytes)
            references.append(ChunkReference(sha256: sha, size: bytes.count))
            if seen.insert(sha).inserted { chunks.append(Chunk(sha256: sha, bytes: bytes)) }
            start = end
        }
        let manifest = ChunkManifest(
            size: value.count, sha256: SHA256Hex.of(value), digest: digest, commit: commit, chunks: references)
        return .chunked(manifest: manifest, chunks: chunks)
    }
}
