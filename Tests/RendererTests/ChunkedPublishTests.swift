import BundleFormat
import Foundation
import KV
import Renderer
import StoreFixtures
import TestFixtures
import Testing

@Suite("publish over the value limit")
struct ChunkedPublishTests {
    static let source = BundleSource(repo: "git2kv-publish", branch: "", path: "gen/big")

    /// Random bytes: nothing for the bundle's compression to win, so the value is as large as the file.
    static func incompressible(_ size: Int, seed: UInt64) -> [UInt8] {
        var generator = SeededGenerator(seed: seed)
        return (0..<size).map { _ in UInt8.random(in: 0...255, using: &generator) }
    }

    static func chunkKeys(_ kv: any KVStore, under parent: String) async throws -> Set<String> {
        Set(try await kv.keys(prefix: parent + "/.git2kv/chunks/", separator: nil, options: KVReadOptions()).value)
    }

    @Test("a 3 MiB incompressible file is published in chunks and rendered byte-identical; replaced chunks are removed", arguments: StoreBackend.allCases)
    func threeMebibytes(backend: StoreBackend) async throws {
        let harness = try await RenderHarness.start(backend)
        defer { Task { await harness.stop() } }
        let publisher = BundlePublisher(store: harness.kv, key: "gen/big", owner: "node-a")
        let first = Self.incompressible(3 << 20, seed: 1)
        guard case .published = try await publisher.publish([BundleFile(path: "hosts", content: first)], source: Self.source, summary: "first") else {
            Issue.record("the first publish was refused")
            return
        }
        let stored = try #require(try await harness.kv.get("gen/big").value)
        #expect(stored.value.starts(with: BundleWire.manifestMagic), "a value over the limit is a chunk manifest")
        let firstChunks = try await Self.chunkKeys(harness.kv, under: "gen")
        #expect(firstChunks.count >= 3 << 20 / harness.kv.limits.maxValueSize)

        let config = try harness.config(["{bundle: gen/big, file: hosts, destination: \(harness.path("hosts"))}"])
        #expect(await harness.once(config).succeeded)
        #expect(FileManager.default.contents(atPath: harness.path("hosts")).map { Array($0) } == first)

        // The same bytes again write nothing.
        guard case .unchanged = try await publisher.publish([BundleFile(path: "hosts", content: first)], source: Self.source, summary: "again") else {
            Issue.record("identical content was published again")
            return
        }
        #expect(try await harness.kv.get("gen/big").value?.modifyIndex == stored.modifyIndex)

        // New content: new chunks, and none of the old ones stays behind.
        let second = Self.incompressible(3 << 20, seed: 2)
        guard case .published = try await publisher.publish([BundleFile(path: "hosts", content: second)], source: Self.source, summary: "second") else {
            Issue.record("the second publish was refused")
            return
        }
        let secondChunks = try await Self.chunkKeys(harness.kv, under: "gen")
        #expect(secondChunks.isDisjoint(with: firstChunks))
        #expect(!secondChunks.isEmpty)
        #expect(await harness.once(config).succeeded)
        #expect(FileManager.default.contents(atPath: harness.path("hosts")).map { Array($0) } == second)

        // Small again: a single value, and no chunk is left.
        let small = Array("10.0.0.1 web-1\n".utf8)
        _ = try await publisher.publish([BundleFile(path: "hosts", content: small)], source: Self.source, summary: "small")
        #expect(try await Self.chunkKeys(harness.kv, under: "gen").isEmpty)
        #expect(await harness.once(config).succeeded)
        #expect(FileManager.default.contents(atPath: harness.path("hosts")).map { Array($0) } == small)
    }

    @Test("chunks another bundle beside the key still uses are kept; a chunked key keeps its owner")
    func sharedChunksAndOwner() async throws {
        let harness = try await RenderHarness.start()
        defer { Task { await harness.stop() } }
        let content = Self.incompressible(2 << 20, seed: 3)
        let a = BundlePublisher(store: harness.kv, key: "gen/a", owner: "node-a")
        let b = BundlePublisher(store: harness.kv, key: "gen/b", owner: "node-a")
        _ = try await a.publish([BundleFile(path: "hosts", content: content)], source: Self.source, summary: "a")
        _ = try await b.publish([BundleFile(path: "hosts", content: content)], source: Self.source, summary: "b")
        _ = try await a.publish([BundleFile(path: "hosts", content: Array("short\n".utf8))], source: Self.source, summary: "a shrinks")

        let config = try harness.config(["{bundle: gen/b, file: hosts, destination: \(harness.path("b"))}"])
        #expect(await harness.once(config).succeeded, "gen/b's chunks are still there")
        #expect(FileManager.default.contents(atPath: harness.path("b")).map { Array($0) } == content)

        let other = BundlePublisher(store: harness.kv, key: "gen/b", owner: "node-b")
        do {
            _ = try await other.publish([BundleFile(path: "hosts", content: Array("mine\n".utf8))], source: Self.source, summary: "b by node-b")
            Issue.record("node-b replaced node-a's chunked key")
        } catch {
            #expect(error.message.contains("published by node-a"), "\(error.message)")
        }
    }
}
