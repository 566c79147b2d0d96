import TestFixtures
import Testing
@testable import BundleFormat

@Suite("Encoding and decoding")
struct BundleRoundTripTests {
    @Test("a bundle decodes to exactly what was encoded, files sorted by path")
    func roundTrip() throws {
        let value = try BundleEncoder.encode(BundleSamples.bundle)
        let decoded = try BundleDecoder.decode(value)
        #expect(decoded == BundleSamples.bundle)
        #expect(decoded.files.map(\.path) == ["bin/reload.sh", "café/ünïcode.yaml", "config.json", "empty", "logo.bin", "nginx/site.conf"])
        #expect(decoded.file(at: "bin/reload.sh")?.mode == .executable)
        #expect(decoded.file(at: "config.json")?.text == "{\"workers\": 4}\n")
        #expect(decoded.source == BundleSamples.source)
        #expect(decoded.commit == BundleSamples.commit)
    }

    @Test("the value starts with the marker and version and is compressed")
    func preamble() throws {
        let big = ConfigBundle(
            source: BundleSamples.source, commit: BundleSamples.commit,
            files: [BundleFile(path: "repetitive.txt", content: Array(repeating: UInt8(ascii: "a"), count: 100_000))])
        let value = try BundleEncoder.encode(big)
        #expect(Array(value.prefix(6)) == Array("G2KB".utf8) + [1, 1])
        #expect(value.count < 2_000)
        #expect(BundleWire.kind(of: value) == .bundle)
    }

    @Test("encoding is deterministic: the same files in any order give the same bytes")
    func deterministic() throws {
        let forward = try BundleEncoder.encode(BundleSamples.bundle)
        let reversed = try BundleEncoder.encode(
            ConfigBundle(source: BundleSamples.source, commit: BundleSamples.commit, files: BundleSamples.files.reversed()))
        #expect(forward == reversed)
        #expect(try BundleEncoder.encode(BundleSamples.bundle) == forward)
    }

    @Test("the digest covers the files only: a new commit with the same files keeps it, any file change alters it")
    func digestScope() throws {
        var other = BundleSamples.bundle
        other.commit.id = String(repeating: "f", count: 40)
        #expect(other.digest == BundleSamples.bundle.digest)
        #expect(try BundleEncoder.encode(other) != BundleEncoder.encode(BundleSamples.bundle))

        var files = BundleSamples.files
        files[0].content += [0x0A]
        #expect(ConfigBundle(source: BundleSamples.source, commit: BundleSamples.commit, files: files).digest != BundleSamples.bundle.digest)
        files = BundleSamples.files
        files[0].mode = .executable
        #expect(ConfigBundle(source: BundleSamples.source, commit: BundleSamples.commit, files: files).digest != BundleSamples.bundle.digest)
        files = BundleSamples.files
        files[0].path = "config2.json"
        #expect(ConfigBundle(source: BundleSamples.source, commit: BundleSamples.commit, files: files).digest != BundleSamples.bundle.digest)
    }

    @Test("the header can be read without hashing contents")
    func headerOnly() throws {
        let header = try BundleDecoder.decodeHeader(BundleEncoder.encode(BundleSamples.bundle))
        #expect(header.digest == BundleSamples.bundle.digest)
        #expect(header.files.count == 6)
        #expect(header.files.first { $0.path == "logo.bin" }?.size == 5)
    }

    @Test("an empty bundle round-trips")
    func emptyBundle() throws {
        let empty = ConfigBundle(source: BundleSamples.source, commit: BundleSamples.commit, files: [])
        #expect(try BundleDecoder.decode(BundleEncoder.encode(empty)) == empty)
    }

    @Test(
        "paths that could escape or that KV stores refuse are rejected at encoding",
        arguments: ["", "/etc/passwd", "../secret", "a/../../b", "a//b", "./a", "a/", " lead", "trail /x", "nul\u{0}byte"])
    func invalidPaths(path: String) {
        let bundle = ConfigBundle(
            source: BundleSamples.source, commit: BundleSamples.commit, files: [BundleFile(path: path, content: [1])])
        let error = #expect(throws: BundleError.self) { try BundleEncoder.encode(bundle) }
        #expect(error?.kind == .invalidPath)
    }

    @Test("two files with one path are rejected")
    func duplicatePaths() {
        let bundle = ConfigBundle(
            source: BundleSamples.source, commit: BundleSamples.commit,
            files: [BundleFile(path: "a", content: [1]), BundleFile(path: "a", content: [2])])
        let error = #expect(throws: BundleError.self) { try BundleEncoder.encode(bundle) }
        #expect(error?.kind == .invalidFileList)
        #expect(error?.description.contains("appears twice") == true)
    }

    @Test("random file sets round-trip exactly", arguments: 0..<40)
    func randomRoundTrip(seed: UInt64) throws {
        var random = SeededGenerator(seed: seed)
        var files: [String: BundleFile] = [:]
        for _ in 0..<Int.random(in: 0...30, using: &random) {
            let depth = Int.random(in: 1...4, using: &random)
            let path = (0..<depth).map { _ in
                String((0..<Int.random(in: 1...12, using: &random)).map { _ in "abcxyz019-_.é日".randomElement(using: &random)! })
            }.joined(separator: "/")
            guard (try? BundlePathRules.validate(path)) != nil else { continue }
            let size = Int.random(in: 0...(Bool.random(using: &random) ? 64 : 20_000), using: &random)
            let content = (0..<size).map { _ in UInt8.random(in: 0...255, using: &random) }
            files[path] = BundleFile(path: path, mode: BundleFileMode.allCases.randomElement(using: &random)!, content: content)
        }
        let bundle = ConfigBundle(source: BundleSamples.source, commit: BundleSamples.commit, files: Array(files.values))
        let value = try BundleEncoder.encode(bundle)
        #expect(try BundleDecoder.decode(value) == bundle)
        #expect(try BundleEncoder.encode(BundleDecoder.decode(value)) == value)
    }

    @Test("the writer refuses what readers refuse: a header over the readers' limit is named with the file count")
    func writerSharesTheReadersLimits() throws {
        let files = (0..<200).map { BundleFile(path: "file-\($0)-" + String(repeating: "x", count: 100), mode: .regular, content: [0x61]) }
        let bundle = ConfigBundle(source: BundleSamples.source, commit: BundleSamples.commit, files: files)
        let tight = BundleLimits(maxDecodedSize: 64 << 20, maxHeaderSize: 4096)
        let refusal = try #require(BundleEncoder.refusal(of: bundle, limits: tight))
        #expect(refusal.contains("200 files") && refusal.contains("over the limit of 4096"))
        let error = try #require(throws: BundleError.self) { try BundleEncoder.encode(bundle, limits: tight) }
        #expect(error.kind == .tooLarge)
        let value = try BundleEncoder.encode(bundle)
        #expect(try BundleDecoder.decode(value).files.count == 200)
    }
}

