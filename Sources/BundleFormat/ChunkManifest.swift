/// One content-addressed piece of a chunked bundle value.
public struct ChunkReference: Codable, Hashable, Sendable {
    public var sha256: String
    public var size: Int

    public init(sha256: String, size: Int) {
        self.sha256 = sha256
        self.size = size
    }
}

/// The small value stored at a bundle's key when the bundle is too large for one value:
/// the ordered chunks whose concatenation is the bundle value.
public struct ChunkManifest: Codable, Hashable, Sendable {
    /// Size of the whole bundle value.
    public var size: Int
    /// sha256 of the whole bundle value.
    public var sha256: String
    /// The bundle's digest over its files, so comparisons need not fetch the chunks.
    public var digest: String
    /// The commit the bundle was taken from.
    public var commit: String
    public var chunks: [ChunkReference]

    public init(size: Int, sha256: String, digest: String, commit: String, chunks: [ChunkReference]) {
        self.size = size
        self.sha256 = sha256
        self.digest = digest
        self.commit = commit
        self.chunks = chunks
    }

    public func encode() -> [UInt8] {
        BundleWire.manifestMagic + [BundleWire.version] + CanonicalJSON.encode(self)
    }

    public static func decode(_ value: some Collection<UInt8>, limits: BundleLimits = .default) throws(BundleError) -> ChunkManifest {
        let bytes = Array(value)
        guard bytes.starts(with: BundleWire.manifestMagic) else {
            throw BundleError(.notABundle, "value does not start with the git2kv manifest marker G2KM")
        }
        guard bytes.count > BundleWire.manifestPreambleSize else {
            throw BundleError(.truncated, "manifest ends after its preamble")
        }
        guard bytes[4] == BundleWire.version else {
            throw BundleError(.unsupportedVersion, "manifest format version \(bytes[4]) is not supported (this build reads version \(BundleWire.version))")
        }
        let manifest = try CanonicalJSON.decode(ChunkManifest.self, from: bytes[BundleWire.manifestPreambleSize...], what: "chunk manifest")
        try manifest.validate(limits: limits)
        return manifest
    }

    /// Keys of the chunks relative to the mapping prefix (`.git2kv/chunks/<sha256>`).
    public var chunkKeys: [String] { chunks.map { Self.chunkKey($0.sha256) } }

    public static func chunkKey(_ sha256: String) -> String { ".git2kv/chunks/\(sha256)" }

    /// Where a chunk of the bundle at `bundleKey` is stored: `.git2kv/chunks/<sha256>` under the
    /// key's parent, where the writer (sync or publish) puts them and readers look.
    public static func chunkKey(_ sha256: String, besideBundleKey bundleKey: String) -> String {
        KeyPlacement.beside(bundleKey, chunkKey(sha256))
    }

    /// Concatenates the chunks (looked up by sha256) after checking each one and the whole.
    public func assemble(_ chunkValues: [String: [UInt8]]) throws(BundleError) -> [UInt8] {
        var value: [UInt8] = []
        value.reserveCapacity(size)
        for (index, chunk) in chunks.enumerated() {
            guard let bytes = chunkValues[chunk.sha256] else {
                throw BundleError(.chunkMismatch, "chunk \(index + 1) of \(chunks.count) (\(chunk.sha256.prefix(12))) is missing")
            }
            guard bytes.count == chunk.size, SHA256Hex.of(bytes) == chunk.sha256 else {
                throw BundleError(.chunkMismatch, "chunk \(index + 1) of \(chunks.count) (\(chunk.sha256.prefix(12))) does not match its checksum")
            }
            value += bytes
        }
        guard SHA256Hex.of(value) == sha256 else {
            throw BundleError(.chunkMismatch, "reassembled value does not match the manifest's sha256")
        }
        return value
    }

    private func validate(limits: BundleLimits) throws(BundleError) {
        guard SHA256Hex.isWellFormed(sha256), SHA256Hex.isWellFormed(digest) else {
            throw BundleError(.corrupt, "chunk manifest has a malformed checksum")
        }
        guard !chunks.isEmpty else { throw BundleError(.corrupt, "chunk manifest lists no chunks") }
        var total = 0
        for chunk in chunks {
            guard SHA256Hex.isWellFormed(chunk.sha256), chunk.size > 0 else {
                throw BundleError(.corrupt, "chunk manifest has a malformed chunk entry")
            }
            total += chunk.size
            guard total <= limits.maxDecodedSize else {
                throw BundleError(.tooLarge, "chunks add up to more than \(limits.maxDecodedSize) bytes")
            }
        }
        guard total == size else {
            throw BundleError(.corrupt, "chunk sizes add up to \(total) bytes, manifest says \(size)")
        }
    }
}
