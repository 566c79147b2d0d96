import BundleFormat
import Foundation
import KV
import Renderer
import StoreFixtures
import TestFixtures
import Testing

@Suite("sharded hosts data", .serialized)
struct ShardedHostsTests {
    /// `services` services of `instances` instances each, every instance on its own node.
    static func catalog(services: Int, instances: Int, offset: Int = 0) -> ([ServiceInstance], [CatalogNodeEntry]) {
        var list: [ServiceInstance] = []
        var nodes: [CatalogNodeEntry] = []
        for service in 0..<services {
            for instance in 0..<instances {
                let number = service * instances + instance
                let address = "10.\(number / 65536).\(number / 256 % 256).\(number % 256 + offset)"
                nodes.append(CatalogNodeEntry(name: "node-\(number)", address: address))
                list.append(
                    ServiceInstance(
                        node: "node-\(number)", nodeAddress: address, serviceID: "svc-\(service)-\(instance)", serviceName: "svc-\(service)",
                        serviceAddress: "", port: 80, tags: instance == 0 ? ["primary"] : [], passing: true))
            }
        }
        return (list, nodes)
    }

    static func publisher(_ kv: any KVStore, shards: Int = 16, minLines: MinLinesRule = MinLinesRule(), stopKey: String? = nil) -> ShardedHostsPublisher {
        ShardedHostsPublisher(
            store: kv, key: "dns/hosts", fileName: "hosts", domain: "consul", shardCount: shards, minLines: minLines, stopKey: stopKey, owner: "test")
    }

    static func shardKeys(_ kv: any KVStore) async throws -> [String] {
        try await kv.keys(prefix: "dns/.git2kv/shards/", separator: nil, options: KVReadOptions()).value
    }

    @Test("a sharded publish renders byte-identical to the whole file; a change rewrites one shard and a node reads only it", arguments: StoreBackend.allCases)
    func roundTripAndOneShardPerChange(backend: StoreBackend) async throws {
        let harness = try await RenderHarness.start(backend)
        defer { Task { await harness.stop() } }
        let (instances, nodes) = Self.catalog(services: 40, instances: 5)
        let publisher = Self.publisher(harness.kv)
        var known: PublishedHosts?
        let entities = HostsFile.entities(instances: instances, nodes: nodes)
        #expect(try await publisher.publish(entities, summary: "first", guards: [], known: &known) != .unchanged(digest: ""))
        let firstShards = try await Self.shardKeys(harness.kv)
        #expect(firstShards.count == 16)

        let counting = ReadCountingStore(harness.kv)
        let reader = BundleReader(store: counting)
        let whole = HostsFile.build(instances: instances, nodes: nodes, domain: "consul")
        let first = try await reader.read("dns/hosts")
        #expect(first.bundle.file(at: "hosts")?.content == Array(whole.utf8))
        #expect(counting.keysRead.count == 17, "the manifest and every shard")

        // Unchanged: nothing written.
        let manifestBefore = try #require(try await harness.kv.get("dns/hosts").value)
        guard case .unchanged = try await publisher.publish(entities, summary: "again", guards: [], known: &known) else {
            Issue.record("an unchanged catalog was published again")
            return
        }
        #expect(try await harness.kv.get("dns/hosts").value?.modifyIndex == manifestBefore.modifyIndex)

        // One instance moves: one shard and the manifest change; the reader fetches that shard only.
        var moved = instances
        moved[7].serviceAddress = "192.168.7.7"
        let changed = HostsFile.entities(instances: moved, nodes: nodes)
        _ = try await publisher.publish(changed, summary: "moved", guards: [], known: &known)
        counting.reset()
        let second = try await reader.read("dns/hosts")
        #expect(second.bundle.file(at: "hosts")?.content == Array(HostsFile.build(instances: moved, nodes: nodes, domain: "consul").utf8))
        let shardReads = counting.keysRead.filter { $0.contains("/.git2kv/shards/") }
        #expect(shardReads == [HostsManifest.shardKey(HostsEntity.shard(kind: .service, name: "svc-1", count: 16), of: 16, besideHostsKey: "dns/hosts")])

        // A fresh publisher (a new leader) knows nothing yet and still writes nothing for an unchanged catalog.
        var fresh: PublishedHosts?
        guard case .unchanged = try await publisher.publish(changed, summary: "new leader", guards: [], known: &fresh) else {
            Issue.record("a new leader republished an unchanged catalog")
            return
        }
    }

    @Test("an output selecting three services holds only their lines and reads only their shards")
    func subsetByName() async throws {
        let harness = try await RenderHarness.start()
        defer { Task { await harness.stop() } }
        let (instances, nodes) = Self.catalog(services: 60, instances: 3)
        var known: PublishedHosts?
        _ = try await Self.publisher(harness.kv, shards: 64).publish(
            HostsFile.entities(instances: instances, nodes: nodes), summary: "", guards: [], known: &known)
        let wanted = ["svc-3", "svc-17", "svc-42"]
        let config = try harness.config([
            "{bundle: dns/hosts, file: hosts, destination: \(harness.path("subset")), hosts: {services: [\(wanted.joined(separator: ", "))]}}"
        ])
        let counting = ReadCountingStore(harness.kv)
        let report = await RenderOnce.run(OutputSet(config: config), store: counting, dryRun: false)
        #expect(report.succeeded)
        let text = try #require(harness.read("subset"))
        let expected = HostsFile.build(instances: instances.filter { wanted.contains($0.serviceName) }, nodes: [], domain: "consul")
        #expect(text == expected)
        #expect(text.split(separator: "\n").count == 3 * 3 + 3, "three instances each plus the primary tag")
        let expectedShards = Set(wanted.map { HostsManifest.shardKey(HostsEntity.shard(kind: .service, name: $0, count: 64), of: 64, besideHostsKey: "dns/hosts") })
        #expect(Set(counting.keysRead.filter { $0.contains("/shards/") }) == expectedShards)
    }

    @Test("globs, tags and node names select across shards")
    func subsetByGlobTagAndNodes() async throws {
        let harness = try await RenderHarness.start()
        defer { Task { await harness.stop() } }
        let (instances, nodes) = Self.catalog(services: 12, instances: 2)
        var known: PublishedHosts?
        _ = try await Self.publisher(harness.kv).publish(HostsFile.entities(instances: instances, nodes: nodes), summary: "", guards: [], known: &known)
        let config = try harness.config([
            "{bundle: dns/hosts, file: hosts, destination: \(harness.path("glob")), hosts: {services: [\"svc-1*\"]}}",
            "{bundle: dns/hosts, file: hosts, destination: \(harness.path("tag")), hosts: {tags: [primary]}}",
            "{bundle: dns/hosts, file: hosts, destination: \(harness.path("nodes")), hosts: {nodes: true}}",
        ])
        #expect(await harness.once(config).succeeded)
        let glob = try #require(harness.read("glob"))
        #expect(glob == HostsFile.build(instances: instances.filter { $0.serviceName.hasPrefix("svc-1") }, nodes: [], domain: "consul"))
        let tag = try #require(harness.read("tag"))
        #expect(tag == HostsFile.build(instances: instances.filter { $0.tags.contains("primary") }, nodes: [], domain: "consul"))
        #expect(harness.read("nodes") == HostsFile.build(instances: [], nodes: nodes, domain: "consul"))
    }

    @Test("a 3 MiB incompressible hosts file arrives byte-identical")
    func threeMebibytes() async throws {
        let harness = try await RenderHarness.start()
        defer { Task { await harness.stop() } }
        var generator = SeededGenerator(seed: 7)
        let letters = Array("abcdefghijklmnopqrstuvwxyz0123456789")
        var entities: [HostsEntity] = []
        var size = 0
        while size < 3 << 20 {
            let name = String((0..<40).map { _ in letters[Int.random(in: 0..<letters.count, using: &generator)] })
            let address = "10.\(UInt8.random(in: 0...255, using: &generator)).\(UInt8.random(in: 0...255, using: &generator)).\(UInt8.random(in: 0...255, using: &generator))"
            entities.append(HostsEntity(kind: .service, name: name, addresses: [HostsAddress(address: address)]))
            size += address.utf8.count + name.utf8.count + ".service.consul\n".utf8.count + 1
        }
        entities.sort { $0.name < $1.name }
        var known: PublishedHosts?
        _ = try await Self.publisher(harness.kv, shards: 256).publish(entities, summary: "", guards: [], known: &known)
        let config = try harness.config(["{bundle: dns/hosts, file: hosts, destination: \(harness.path("hosts"))}"])
        #expect(await harness.once(config).succeeded)
        let delivered = try #require(FileManager.default.contents(atPath: harness.path("hosts")))
        #expect(delivered.count >= 3 << 20)
        #expect(Array(delivered) == Array(HostsText.render(entities, domain: "consul").utf8))
    }

    @Test("forged or torn shard data is refused and the old file stays; the next publish heals it")
    func forgedAndTornShards() async throws {
        let harness = try await RenderHarness.start()
        defer { Task { await harness.stop() } }
        let (instances, nodes) = Self.catalog(services: 8, instances: 2)
        let publisher = Self.publisher(harness.kv, shards: 4)
        var known: PublishedHosts?
        _ = try await publisher.publish(HostsFile.entities(instances: instances, nodes: nodes), summary: "", guards: [], known: &known)
        let config = try harness.config(["{bundle: dns/hosts, file: hosts, destination: \(harness.path("hosts"))}"])
        #expect(await harness.once(config).succeeded)
        let good = try #require(harness.read("hosts"))
        let manifest = try HostsManifest.decode(try #require(try await harness.kv.get("dns/hosts").value).value)
        let index = try #require(manifest.shards.firstIndex { $0 != 0 })
        let shardKey = HostsManifest.shardKey(index, of: 4, besideHostsKey: "dns/hosts")
        let shard = try HostsShard.decode(try #require(try await harness.kv.get(shardKey).value).value)

        // An address that would add a line of its own.
        var forged = shard
        forged.entities[0].addresses[0].address = "10.0.0.1 evil.example\n10.6.6.6"
        try await harness.kv.put(shardKey, value: try forged.encode())
        var report = await harness.once(config)
        #expect(!report.succeeded)
        #expect(report.failures.first?.message.contains("malformed address") == true)
        #expect(harness.read("hosts") == good)

        // A shard from a publish that died before its manifest: newer than the manifest names.
        var torn = shard
        torn.generation = manifest.generation + 1
        try await harness.kv.put(shardKey, value: try torn.encode())
        report = await harness.once(config)
        #expect(!report.succeeded)
        #expect(report.failures.first?.message.contains("kept moving") == true)
        #expect(harness.read("hosts") == good)

        // The next publish (a new leader, knowing nothing) writes above the torn generation.
        var moved = instances
        moved[0].serviceAddress = "192.168.0.9"
        var fresh: PublishedHosts?
        _ = try await publisher.publish(HostsFile.entities(instances: moved, nodes: nodes), summary: "", guards: [], known: &fresh)
        #expect(try HostsManifest.decode(try #require(try await harness.kv.get("dns/hosts").value).value).generation > torn.generation)
        #expect(await harness.once(config).succeeded)
        #expect(harness.read("hosts") == HostsFile.build(instances: moved, nodes: nodes, domain: "consul"))
    }

    @Test("a new shard count writes a fresh set and removes the old one; the stop key and min_lines hold")
    func reshardStopKeyAndMinLines() async throws {
        let harness = try await RenderHarness.start()
        defer { Task { await harness.stop() } }
        let (instances, nodes) = Self.catalog(services: 20, instances: 2)
        let entities = HostsFile.entities(instances: instances, nodes: nodes)
        var known: PublishedHosts?
        _ = try await Self.publisher(harness.kv, shards: 8).publish(entities, summary: "", guards: [], known: &known)
        _ = try await Self.publisher(harness.kv, shards: 32).publish(entities, summary: "", guards: [], known: &known)
        let keys = try await Self.shardKeys(harness.kv)
        #expect(!keys.isEmpty && keys.allSatisfy { $0.hasPrefix("dns/.git2kv/shards/hosts/32/") })
        let config = try harness.config(["{bundle: dns/hosts, file: hosts, destination: \(harness.path("hosts"))}"])
        #expect(await harness.once(config).succeeded)
        #expect(harness.read("hosts") == HostsFile.build(instances: instances, nodes: nodes, domain: "consul"))

        let short = Self.publisher(harness.kv, shards: 32, minLines: MinLinesRule(all: 1000))
        await #expect(throws: RenderError.self) { _ = try await short.publish(entities, summary: "", guards: [], known: &known) }
        try await harness.kv.put("dns/stop", value: Array("maintenance".utf8))
        let stopped = Self.publisher(harness.kv, shards: 32, stopKey: "dns/stop")
        let outcome = try await stopped.publish([], summary: "", guards: [], known: &known)
        #expect(outcome == .stopped(reason: "stop key dns/stop is set: maintenance"))
    }
}
