import TestFixtures
import Testing
@testable import BundleFormat

@Suite("Chunked bundles")
struct ChunkingTests {
    private func largeBundle(seed: UInt64 = 1) -> ConfigBundle {
        var random = SeededGenerator(seed: seed)
        let noise = (0..<300_000).map { _ in UInt8.random(in: 0...255, using: &random) }
        return ConfigBundle(
            source: BundleSamples.source, commit: BundleSamples.commit,
            files: BundleSamples.files + [BundleFile(path: "large.bin", content: noise)])
    }

    @Test("a bundle under the value limit is stored as a single value")
    func small() throws {
        let stored = try BundleChunker.store(BundleSamples.bundle, valueLimit: 512 << 10, chunkSize: 256 << 10)
        #expect(stored == .single(value: try BundleEncoder.encode(BundleSamples.bundle)))
    }

    @Test("a bundle over the limit becomes a manifest and content-addressed chunks that reassemble exactly")
    func chunked() throws {
        let bundle = largeBundle()
        let stored = try BundleChunker.store(bundle, valueLimit: 100_000, chunkSize: 64_000)
        guard case .chunked(let manifest, let chunks) = stored else {
            Issue.record("expected a chunked bundle")
            return
        }
        #expect(chunks.allSatisfy { $0.bytes.count <= 64_000 })
        #expect(chunks.count == manifest.chunks.count)
        #expect(manifest.digest == bundle.digest)
        #expect(manifest.commit == BundleSamples.commit.id)
        #expect(chunks.first?.key == ".git2kv/chunks/\(chunks[0].sha256)")
        #expect(stored.keyValue.count < 10_000)
        #expect(BundleWire.kind(of: stored.keyValue) == .manifest)

        let decodedManifest = try ChunkManifest.decode(stored.keyValue)
        #expect(decodedManifest == manifest)
        let value = try decodedManifest.assemble(Dictionary(uniqueKeysWithValues: chunks.map { ($0.sha256, $0.bytes) }))
        #expect(try BundleDecoder.decode(value) == bundle)
    }

    @Test("a missing or altered chunk is detected")
    func badChunks() throws {
        guard case .chunked(let manifest, let chunks) = try BundleChunker.store(largeBundle(), valueLimit: 100_000, chunkSize: 64_000) else {
            Issue.record("expected a chunked bundle")
            return
        }
        var available = Dictionary(uniqueKeysWithValues: chunks.map { ($0.sha256, $0.bytes) })
        available[chunks[1].sha256] = nil
        let missing = #expect(throws: BundleError.self) { try manifest.assemble(available) }
        #expect(missing?.kind == .chunkMismatch)
        #expect(missing?.description.contains("chunk 2 of") == true)

        available[chunks[1].sha256] = chunks[1].bytes
        available[chunks[0].sha256]?[10] ^= 0xFF
        #expect((#expect(throws: BundleError.self) { try manifest.assemble(available) })?.kind == .chunkMismatch)
    }

    @Test("identical chunks are stored once")
    func deduplicated() throws {
        let value = Array(repeating: UInt8(7), count: 1000)
        guard case .chunked(let manifest, let chunks) = BundleChunker.split(value, digest: String(repeating: "a", count: 64), commit: "c", chunkSize: 100) else {
            Issue.record("expected a chunked bundle")
            return
        }
        #expect(manifest.chunks.count == 10)
        #expect(chunks.count == 1)
        #expect(try manifest.assemble([chunks[0].sha256: chunks[0].bytes]) == value)
    }

    @Test("malformed manifests are rejected with a reason")
    func badManifests() {
        func kind(_ bytes: [UInt8]) -> BundleError.Kind? {
            (#expect(throws: BundleError.self) { try ChunkManifest.decode(bytes) })?.kind
        }
        #expect(kind(Array("G2KB\u{1}".utf8)) == .notABundle)
        #expect(kind(Array("G2KM".utf8)) == .truncated)
        #expect(kind(Array("G2KM\u{2}{}".utf8)) == .unsupportedVersion)
        #expect(kind(Array("G2KM\u{1}{bad".utf8)) == .corrupt)
        let sha = String(repeating: "a", count: 64)
        let inconsistent = ChunkManifest(size: 10, sha256: sha, digest: sha, commit: "c", chunks: [ChunkReference(sha256: sha, size: 5)])
        #expect(kind(inconsistent.encode()) == .corrupt)
        let empty = ChunkManifest(size: 0, sha256: sha, digest: sha, commit: "c", chunks: [])
        #expect(kind(empty.encode()) == .corrupt)
    }
}
