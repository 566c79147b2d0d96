import TestFixtures
import Testing
@testable import BundleFormat

@Suite("Corrupt, truncated and foreign values")
struct BundleCorruptionTests {
    private let value = (try? BundleEncoder.encode(BundleSamples.bundle)) ?? []

    private func decodeError(_ bytes: [UInt8], limits: BundleLimits = .default) -> BundleError? {
        #expect(throws: BundleError.self) { try BundleDecoder.decode(bytes, limits: limits) }
    }

    @Test("foreign bytes are not a bundle")
    func foreign() {
        #expect(decodeError(Array("{\"port\": 8080}".utf8))?.kind == .notABundle)
        #expect(decodeError([])?.kind == .truncated)
        #expect(decodeError(Array("XXXXXXXXXXXX".utf8))?.kind == .notABundle)
        let manifest = decodeError(Array("G2KM\u{1}{}".utf8))
        #expect(manifest?.kind == .notABundle)
        #expect(manifest?.description.contains("manifest") == true)
    }

    @Test("an unknown version or compression is named")
    func unknownVersion() {
        var future = value
        future[4] = 7
        let version = decodeError(future)
        #expect(version?.kind == .unsupportedVersion)
        #expect(version?.description.contains("version 7") == true)
        var compression = value
        compression[5] = 9
        #expect(decodeError(compression)?.kind == .unsupportedCompression)
    }

    @Test("every truncation of a value is rejected")
    func truncations() {
        for length in 0..<value.count {
            #expect(throws: BundleError.self) { try BundleDecoder.decode(Array(value.prefix(length))) }
        }
    }

    @Test("bytes after the compressed stream are rejected")
    func trailing() {
        #expect(decodeError(value + [0x00])?.kind == .trailingBytes)
    }

    @Test("a file whose content does not match its checksum is rejected, naming the file")
    func checksumMismatch() throws {
        var header = BundleSamples.header(for: BundleSamples.bundle)
        let contents = BundleSamples.bundle.files.map(\.content)
        var tampered = contents
        let index = try #require(header.files.firstIndex { $0.path == "config.json" })
        tampered[index] = Array("{\"workers\": 9}\n".utf8)
        let bytes = try BundleEncoder.assemble(headerBytes: CanonicalJSON.encode(header), contents: tampered)
        let error = decodeError(bytes)
        #expect(error?.kind == .checksumMismatch)
        #expect(error?.description.contains("config.json") == true)

        header.digest = String(repeating: "0", count: 64)
        let wrongDigest = try BundleEncoder.assemble(headerBytes: CanonicalJSON.encode(header), contents: contents)
        #expect(decodeError(wrongDigest)?.kind == .digestMismatch)
    }

    @Test("sizes that disagree with the content are truncation or trailing bytes")
    func sizeMismatch() throws {
        let header = BundleSamples.header(for: BundleSamples.bundle)
        var contents = BundleSamples.bundle.files.map(\.content)
        contents[contents.count - 1].removeLast()
        #expect(decodeError(try BundleEncoder.assemble(headerBytes: CanonicalJSON.encode(header), contents: contents))?.kind == .truncated)
        contents = BundleSamples.bundle.files.map(\.content) + [[1, 2, 3]]
        #expect(decodeError(try BundleEncoder.assemble(headerBytes: CanonicalJSON.encode(header), contents: contents))?.kind == .trailingBytes)
    }

    @Test("a malformed header, unsorted files or an escaping path are rejected")
    func badHeaders() throws {
        #expect(decodeError(try BundleEncoder.assemble(headerBytes: Array("{not json".utf8), contents: []))?.kind == .corrupt)
        let missingKey = decodeError(try BundleEncoder.assemble(headerBytes: Array("{\"files\": []}".utf8), contents: []))
        #expect(missingKey?.kind == .corrupt)
        #expect(missingKey?.description.contains("missing") == true)

        var header = BundleSamples.header(for: BundleSamples.bundle)
        header.files.reverse()
        let contents = BundleSamples.bundle.files.map(\.content).reversed().map { $0 }
        #expect(decodeError(try BundleEncoder.assemble(headerBytes: CanonicalJSON.encode(header), contents: contents))?.kind == .invalidFileList)

        header = BundleSamples.header(for: BundleSamples.bundle)
        header.files[0].path = "../../etc/cron.d/x"
        #expect(decodeError(try BundleEncoder.assemble(headerBytes: CanonicalJSON.encode(header), contents: BundleSamples.bundle.files.map(\.content)))?.kind == .invalidPath)
    }

    @Test("a decompression bomb stops at the limit")
    func bomb() throws {
        let bomb = ConfigBundle(
            source: BundleSamples.source, commit: BundleSamples.commit,
            files: [BundleFile(path: "zeros", content: Array(repeating: 0, count: 4 << 20))])
        let bytes = try BundleEncoder.encode(bomb)
        let error = decodeError(bytes, limits: BundleLimits(maxDecodedSize: 1 << 20))
        #expect(error?.kind == .tooLarge)
    }

    @Test("random and mutated bytes give typed errors, never a crash or a different bundle", arguments: 0..<8)
    func fuzz(seed: UInt64) {
        var random = SeededGenerator(seed: seed)
        for _ in 0..<300 {
            var bytes = value
            switch Int.random(in: 0..<4, using: &random) {
            case 0:
                bytes = (0..<Int.random(in: 0...200, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
                if Bool.random(using: &random) { bytes = Array("G2KB".utf8) + [1, 1] + bytes }
            case 1:
                for _ in 0..<Int.random(in: 1...4, using: &random) {
                    bytes[Int.random(in: 0..<bytes.count, using: &random)] ^= UInt8.random(in: 1...255, using: &random)
                }
            case 2:
                let start = Int.random(in: 0..<bytes.count, using: &random)
                bytes.removeSubrange(start..<min(bytes.count, start + Int.random(in: 1...16, using: &random)))
            default:
                let at = Int.random(in: 0...bytes.count, using: &random)
                bytes.insert(contentsOf: (0..<Int.random(in: 1...16, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }, at: at)
            }
            do {
                let decoded = try BundleDecoder.decode(bytes)
                #expect(decoded == BundleSamples.bundle, "a mutated value decoded to something else")
            } catch {
                // Only typed bundle errors are possible: decode's signature is throws(BundleError).
                #expect(!error.message.isEmpty)
            }
        }
    }
}
