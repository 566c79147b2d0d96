import BundleFormat
import Foundation
import Testing
import TestFixtures

@Suite("git2kv inspect (end to end)")
struct InspectCommandTests {
    private let bundle = ConfigBundle(
        source: BundleSource(repo: "config", branch: "main", path: "apps/web"),
        commit: BundleCommit(id: String(repeating: "ab", count: 20), author: "Ada", email: "ada@example.com", time: 1_700_000_000, summary: "Tune workers"),
        files: [BundleFile(path: "config.json", content: Array("{\"workers\": 4}\n".utf8))])

    @Test("a valid bundle file is verified and described")
    func validBundle() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let file = directory.appending("value.bin")
        try Data(BundleEncoder.encode(bundle)).write(to: URL(fileURLWithPath: file))
        let result = try Git2KVBinary.run(["inspect", file])
        #expect(result.status == 0, "\(result.errors)")
        #expect(result.output.contains("bundle    verified (1 files"))
        #expect(result.output.contains("config main:apps/web"))
        #expect(result.output.contains("Tune workers"))
        #expect(result.output.contains(bundle.digest))
        #expect(result.output.contains("config.json"))
    }

    @Test("a corrupt value on standard input fails with the reason")
    func corruptBundle() throws {
        var value = try BundleEncoder.encode(bundle)
        value.removeLast(3)
        let result = try Git2KVBinary.run(["inspect", "-"], input: value)
        #expect(result.status != 0)
        #expect(result.errors.contains("bundle: compressed payload ends"))
    }

    @Test("a chunk manifest is recognised")
    func manifest() throws {
        let stored = BundleChunker.split(try BundleEncoder.encode(bundle), digest: bundle.digest, commit: bundle.commit.id, chunkSize: 16)
        let result = try Git2KVBinary.run(["inspect", "-"], input: stored.keyValue)
        #expect(result.status == 0, "\(result.errors)")
        #expect(result.output.contains("manifest"))
        #expect(result.output.contains(bundle.digest))
    }

    @Test("the binary reports its version and lists its commands")
    func help() throws {
        #expect(try Git2KVBinary.run(["--version"]).output.contains("0.1.0"))
        #expect(try Git2KVBinary.run(["--help"]).output.contains("inspect"))
    }
}
