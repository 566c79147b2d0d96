import AsyncHTTPClient
import BundleFormat
import Foundation
import KV
import Logging
import NIOCore
import Pipeline
import Renderer
import StoreFixtures
import TestFixtures
import Testing
import ConfigParsing

@Suite("hosts and publish")
struct HostsAndPublishTests {
    @Test("the hosts file: passing instances, tags, node addresses as fallback, nodes; sorted; bad labels left out")
    func hostsFileContent() {
        let instances = [
            ServiceInstance(node: "n2", nodeAddress: "10.0.0.2", serviceID: "web-2", serviceName: "web", serviceAddress: "", port: 80, tags: ["blue"], passing: true),
            ServiceInstance(node: "n1", nodeAddress: "10.0.0.1", serviceID: "web-1", serviceName: "web", serviceAddress: "172.16.0.1", port: 80, tags: ["blue", "bad tag"], passing: true),
            ServiceInstance(node: "n3", nodeAddress: "10.0.0.3", serviceID: "web-3", serviceName: "web", serviceAddress: "", port: 80, tags: [], passing: false),
            ServiceInstance(node: "n1", nodeAddress: "10.0.0.1", serviceID: "db", serviceName: "DB", serviceAddress: "", port: 5432, tags: [], passing: true),
        ]
        let nodes = [CatalogNodeEntry(name: "n2", address: "10.0.0.2"), CatalogNodeEntry(name: "n1", address: "10.0.0.1"), CatalogNodeEntry(name: "n_4", address: "10.0.0.4")]
        let text = HostsFile.build(instances: instances, nodes: nodes, domain: "consul")
        #expect(text == """
            10.0.0.2 blue.web.service.consul
            172.16.0.1 blue.web.service.consul
            10.0.0.1 db.service.consul
            10.0.0.1 n1.node.consul
            10.0.0.2 n2.node.consul
            10.0.0.2 web.service.consul
            172.16.0.1 web.service.consul

            """)
        #expect(HostsFile.build(instances: instances.reversed(), nodes: nodes.reversed(), domain: "consul") == text)
    }

    @Test("publish writes only when the content changed, refuses short files and stops at the stop key")
    func publishGuards() async throws {
        let harness = try await RenderHarness.start()
        defer { Task { await harness.stop() } }
        let publisher = BundlePublisher(store: harness.kv, key: "gen/inventory", minLines: MinLinesRule(all: 2), stopKey: "gen/stop")
        let source = BundleSource(repo: "git2kv-publish", branch: "", path: "gen/inventory")
        let files = [BundleFile(path: "inventory.txt", content: Array("a\nb\n".utf8))]
        guard case .published(let digest) = try await publisher.publish(files, source: source, summary: "first") else {
            Issue.record("expected a publish")
            return
        }
        let index = try #require(try await harness.kv.get("gen/inventory").value?.modifyIndex)
        #expect(try await publisher.publish(files, source: source, summary: "again") == .unchanged(digest: digest))
        #expect(try await harness.kv.get("gen/inventory").value?.modifyIndex == index)

        await #expect(throws: RenderError.self) {
            try await publisher.publish([BundleFile(path: "inventory.txt", content: Array("a\n".utf8))], source: source, summary: "short")
        }
        #expect(try await harness.kv.get("gen/inventory").value?.modifyIndex == index)

        try await harness.kv.put("gen/stop", value: Array("maintenance, ask ops".utf8))
        let stopped = try await publisher.publish([BundleFile(path: "inventory.txt", content: Array("c\nd\n".utf8))], source: source, summary: "stopped")
        #expect(stopped == .stopped(reason: "stop key gen/stop is set: maintenance, ask ops"))
        #expect(try await harness.kv.get("gen/inventory").value?.modifyIndex == index)

        // A renderer delivers what was published.
        try await harness.kv.delete("gen/stop")
        _ = try await publisher.publish([BundleFile(path: "inventory.txt", content: Array("c\nd\n".utf8))], source: source, summary: "new")
        let config = try harness.config(["{bundle: gen/inventory, file: inventory.txt, destination: \(harness.path("inventory.txt"))}"])
        #expect(await harness.once(config).succeeded)
        #expect(harness.read("inventory.txt") == "c\nd\n")
    }

    @Test("a key has one owner: another node's publish is refused unless it takes over; git-synced keys are never published over")
    func publishOwnership() async throws {
        let harness = try await RenderHarness.start()
        defer { Task { await harness.stop() } }
        let source = BundleSource(repo: "git2kv-publish", branch: "", path: "gen/inventory")
        let mine = [BundleFile(path: "inventory.txt", content: Array("a\n".utf8))]
        let theirs = [BundleFile(path: "inventory.txt", content: Array("b\n".utf8))]
        let nodeA = BundlePublisher(store: harness.kv, key: "gen/inventory", owner: "node-a")
        let nodeB = BundlePublisher(store: harness.kv, key: "gen/inventory", owner: "node-b")
        guard case .published = try await nodeA.publish(mine, source: source, summary: "a") else {
            Issue.record("node-a's first publish was refused")
            return
        }
        do {
            _ = try await nodeB.publish(theirs, source: source, summary: "b")
            Issue.record("node-b replaced node-a's key")
        } catch {
            #expect(error.message.contains("published by node-a") && error.message.contains("--take-over"), "\(error.message)")
        }
        guard case .unchanged = try await nodeB.publish(mine, source: source, summary: "same bytes") else {
            Issue.record("identical content from another node should be simply unchanged")
            return
        }
        let takeOver = BundlePublisher(store: harness.kv, key: "gen/inventory", owner: "node-b", takeOver: true)
        guard case .published = try await takeOver.publish(theirs, source: source, summary: "b takes over") else {
            Issue.record("--take-over did not publish")
            return
        }
        await #expect(throws: RenderError.self, "node-a is no longer the owner") { try await nodeA.publish(mine, source: source, summary: "a again") }

        // A bundle git2kv sync wrote, and a key under a prefix sync keeps, are refused.
        try await harness.put("config/apps/web", ["app.conf": "x\n"])
        let overSynced = BundlePublisher(store: harness.kv, key: "config/apps/web", owner: "node-a")
        await #expect(throws: RenderError.self) { try await overSynced.publish(mine, source: source, summary: "over git") }
        try await harness.kv.put("config/apps/.git2kv/state", value: Array("{}".utf8))
        let underSynced = BundlePublisher(store: harness.kv, key: "config/apps/new", owner: "node-a")
        do {
            _ = try await underSynced.publish(mine, source: source, summary: "under a synced prefix")
            Issue.record("published under a prefix sync keeps")
        } catch {
            #expect(error.message.contains("config/apps/.git2kv/state"), "\(error.message)")
        }
    }

    @Test("min_lines per file: each file has its own minimum")
    func minLinesPerFile() async throws {
        let harness = try await RenderHarness.start()
        defer { Task { await harness.stop() } }
        let config = try PublisherConfig.parse("min_lines: { hosts: 3 }\n", file: "p.yaml")
        #expect(config.minLines == MinLinesRule(perFile: ["hosts": 3]))
        let publisher = BundlePublisher(store: harness.kv, key: "dns/hosts", minLines: config.minLines)
        let source = BundleSource(repo: "git2kv-publish", branch: "", path: "dns/hosts")
        let short = [BundleFile(path: "hosts", content: Array("a\nb\n".utf8)), BundleFile(path: "extra", content: Array("x\n".utf8))]
        await #expect(throws: RenderError.self, "hosts needs 3 lines") { try await publisher.publish(short, source: source, summary: "s") }
        let enough = [BundleFile(path: "hosts", content: Array("a\nb\nc\n".utf8)), BundleFile(path: "extra", content: Array("x\n".utf8))]
        guard case .published = try await publisher.publish(enough, source: source, summary: "s") else {
            Issue.record("a one-line extra file was held to the hosts file's minimum")
            return
        }
        #expect(throws: ConfigError.self) { try PublisherConfig.parse("min_lines: { hosts: 0 }\n", file: "p.yaml") }
        #expect(try PublisherConfig.parse("key: dns/hosts\n", file: "p.yaml").layout == .sharded)
        #expect(try PublisherConfig.parse("layout: bundle\nshards: 16\n", file: "p.yaml").shards == 16)
        for bad in ["layout: flat\n", "shards: 0\n", "shards: 5000\n"] {
            #expect(throws: ConfigError.self, "\(bad)") { try PublisherConfig.parse(bad, file: "p.yaml") }
        }
    }

    @Test("a write guarded by a session that has ended is refused")
    func staleLeaderCannotWrite() async throws {
        let harness = try await RenderHarness.start()
        defer { Task { await harness.stop() } }
        let session = try await harness.kv.createSession(KVSessionOptions(name: "old leader", ttl: .seconds(60), lockDelay: .zero))
        #expect(try await harness.kv.acquire("dns/hosts.lock", value: [], session: session))
        try await harness.kv.destroySession(session)
        let publisher = BundlePublisher(store: harness.kv, key: "dns/hosts")
        await #expect(throws: RenderError.self) {
            try await publisher.publish(
                [BundleFile(path: "hosts", content: Array("10.0.0.1 a.node.consul\n".utf8))],
                source: BundleSource(repo: "git2kv-hosts", branch: "", path: "dns/hosts"), summary: "stale",
                guards: [.checkSession(key: "dns/hosts.lock", session: session)])
        }
        #expect(try await harness.kv.get("dns/hosts").value == nil)
    }

    /// The catalog is always Consul's (here kv-server's); the bundle goes to the backend under test.
    @Test("hosts follows catalog registrations, fails over between two generators, honours min_lines and the stop key", arguments: StoreBackend.allCases)
    func hostsGenerators(backend: StoreBackend) async throws {
        let harness = try await RenderHarness.start(backend)
        let catalogServer = try await TestStore.start(.kvServer)
        defer { Task { await harness.stop(); await catalogServer.stop() } }
        let catalog = try #require(catalogServer.kv as? ConsulClient)
        try await register(catalogServer, node: "web-1", address: "10.0.0.1", service: "web", id: "web-1", status: "passing")
        try await register(catalogServer, node: "web-2", address: "10.0.0.2", service: "web", id: "web-2", status: "passing")
        let (_, generators) = try hostsGenerators(
            2, harness: harness, catalog: catalog,
            settings: ["catalog: \(catalogServer.kvSetting)", "min_lines: 5", "stop_key: dns/hosts-stop", "refresh: 2s"])
        let (first, second) = (generators[0], generators[1])
        let firstTask = Task { await first.run() }
        try await eventually("the first generator to lead") { await first.isLeader }
        let secondTask = Task { await second.run() }

        let render = try harness.config(["{bundle: dns/hosts, file: hosts, destination: \(harness.path("hosts.consul")), min_lines: 3}"])
        // The catalog server's own node and its consul service are there too, as with Consul.
        let expected = """
            127.0.0.1 consul.service.consul
            127.0.0.1 git2kv-kv-server.node.consul
            10.0.0.1 web-1.node.consul
            10.0.0.2 web-2.node.consul
            10.0.0.1 web.service.consul
            10.0.0.2 web.service.consul

            """
        try await eventually("the hosts bundle") { await harness.once(render).succeeded && harness.read("hosts.consul") == expected }

        // Deregistering leaves too few lines: min_lines holds the last good file.
        try await deregister(catalogServer, node: "web-2")
        try await eventually("the refused publish") { await first.lastError?.kind == .guardFailed }
        #expect(await first.lastError?.message.contains("fewer than min_lines 5") == true)
        _ = await harness.once(render)
        #expect(harness.read("hosts.consul") == expected)
        #expect(!(await second.isLeader))

        // The leader goes away; the other takes over and follows the catalog.
        firstTask.cancel()
        await firstTask.value
        try await eventually("the second generator to lead") { await second.isLeader }
        try await register(catalogServer, node: "db-1", address: "10.0.1.1", service: "db", id: "db-1", status: "passing")
        try await eventually("the new hosts bundle") {
            _ = await harness.once(render)
            return harness.read("hosts.consul")?.contains("10.0.1.1 db.service.consul") == true
        }

        // The stop key freezes the published file.
        try await harness.kv.put("dns/hosts-stop", value: Array("dns migration".utf8))
        try await register(catalogServer, node: "cache-1", address: "10.0.2.1", service: "cache", id: "cache-1", status: "passing")
        try await eventually("a stopped publish") { if case .stopped = await second.lastOutcome { true } else { false } }
        _ = await harness.once(render)
        #expect(harness.read("hosts.consul")?.contains("cache") == false)
        secondTask.cancel()
        await secondTask.value
    }

    /// With a long `refresh`, only a watch on the stop key (and a wait that ends when either
    /// watch fires) makes its deletion take effect at once.
    @Test("deleting the stop key publishes what the catalog holds at once, without a catalog change")
    func stopKeyDeletionIsWatched() async throws {
        let harness = try await RenderHarness.start()
        let catalogServer = try await TestStore.start(.kvServer)
        defer { Task { await harness.stop(); await catalogServer.stop() } }
        let catalog = try #require(catalogServer.kv as? ConsulClient)
        try await register(catalogServer, node: "web-1", address: "10.0.0.1", service: "web", id: "web-1", status: "passing")
        let (_, generators) = try hostsGenerators(
            harness: harness, catalog: catalog, settings: ["catalog: \(catalogServer.kvSetting)", "stop_key: dns/hosts-stop", "refresh: 10m"])
        let generator = generators[0]
        let task = Task { await generator.run() }
        let render = try harness.config(["{bundle: dns/hosts, file: hosts, destination: \(harness.path("hosts.consul"))}"])
        try await eventually("the first hosts bundle") { await harness.once(render).succeeded && harness.read("hosts.consul")?.contains("web-1") == true }

        try await harness.kv.put("dns/hosts-stop", value: Array("dns migration".utf8))
        try await eventually("the stop key seen without a catalog change") { if case .stopped = await generator.lastOutcome { true } else { false } }
        try await register(catalogServer, node: "cache-1", address: "10.0.2.1", service: "cache", id: "cache-1", status: "passing")
        try await eventually("the stopped publish of the new catalog") {
            guard case .stopped(let reason) = await generator.lastOutcome else { return false }
            return reason.contains("dns migration")
        }
        try await harness.kv.delete("dns/hosts-stop")
        try await eventually("the publish after the stop key went", timeout: .seconds(20)) {
            _ = await harness.once(render)
            return harness.read("hosts.consul")?.contains("10.0.2.1 cache.service.consul") == true
        }
        task.cancel()
        await task.value
    }

    @Test("refresh reads the listings again and republishes hosts data deleted under the key, without re-reading services")
    func refreshRepairsDeletedData() async throws {
        let harness = try await RenderHarness.start()
        defer { Task { await harness.stop() } }
        let catalog = ConsulLikeCatalog()
        let (_, generators) = try hostsGenerators(harness: harness, catalog: catalog, settings: ["refresh: 1s"])
        let task = Task { await generators[0].run() }
        try await eventually("the first publish") { try await harness.kv.get("dns/hosts").value != nil }
        // After a first refresh the start-up's updates are all handled: only the next refresh can publish.
        try await eventually("a refresh", timeout: .seconds(20)) { await generators[0].refreshes >= 1 }
        let readsAfterFirst = await catalog.instanceReads
        _ = try await harness.kv.delete("dns/hosts", cas: nil)
        try await eventually("the data published again", timeout: .seconds(20)) { try await harness.kv.get("dns/hosts").value != nil }
        #expect(await catalog.instanceReads == readsAfterFirst, "an unchanged service table is not read again")
        task.cancel()
        await task.value
    }

    /// On Consul a check's status change does not move `catalog/services`' index (kv-server's
    /// catalog has one index for everything), so this catalog behaves like Consul's: only the
    /// health-state queries wake when a check changes.
    @Test("a check turning critical, then passing again, changes the hosts file at once, with refresh at its 10-minute default")
    func healthChangesAreWatched() async throws {
        let harness = try await RenderHarness.start()
        defer { Task { await harness.stop() } }
        let catalog = ConsulLikeCatalog()
        let (config, generators) = try hostsGenerators(harness: harness, catalog: catalog, settings: [])
        #expect(config.refresh == .seconds(600))
        let generator = generators[0]
        let task = Task { await generator.run() }
        let render = try harness.config(["{bundle: dns/hosts, file: hosts, destination: \(harness.path("hosts.consul"))}"])
        func hosts() async -> String {
            _ = await harness.once(render)
            return harness.read("hosts.consul") ?? ""
        }
        try await eventually("both instances") { await hosts().contains("10.0.0.2 web.service.consul") }

        await catalog.setPassing(false, instance: "web-2")
        try await eventually("the critical instance gone", timeout: .seconds(20)) {
            let text = await hosts()
            return !text.contains("10.0.0.2 web.service.consul") && text.contains("10.0.0.1 web.service.consul")
        }
        await catalog.setPassing(true, instance: "web-2")
        try await eventually("the instance back once passing", timeout: .seconds(20)) { await hosts().contains("10.0.0.2 web.service.consul") }
        #expect(await catalog.servicesIndex == 1, "the services index never moved")
        task.cancel()
        await task.value
    }

    /// `count` hosts generators publishing dns/hosts to `harness`'s store from `catalog`, with a
    /// lock that fails over quickly, `settings` added to the configuration, and quiet logs.
    private func hostsGenerators(
        _ count: Int = 1, harness: RenderHarness, catalog: any ServiceCatalog, settings: [String]
    ) throws -> (PublisherConfig, [HostsGenerator]) {
        let lines = ["kv: \(harness.server.kvSetting)", "key: dns/hosts", "lock: { session_ttl: 10s, lock_delay: 0s }"] + settings
        let config = try PublisherConfig.parse(lines.joined(separator: "\n") + "\n", file: "hosts.yaml")
        var logger = Logger(label: "test.hosts")
        logger.logLevel = .critical
        let generators = try (0..<count).map { _ in try HostsGenerator(config: config, kv: harness.kv, catalog: catalog, logger: logger) }
        return (config, generators)
    }

    private func register(_ catalog: TestStore, node: String, address: String, service: String, id: String, status: String) async throws {
        let body = """
            {"Node": "\(node)", "Address": "\(address)",
             "Service": {"ID": "\(id)", "Service": "\(service)", "Port": 80},
             "Check": {"CheckID": "service:\(id)", "Name": "alive", "Status": "\(status)", "ServiceID": "\(id)"}}
            """
        try await put(catalog, "/v1/catalog/register", body)
    }

    private func deregister(_ catalog: TestStore, node: String) async throws {
        try await put(catalog, "/v1/catalog/deregister", #"{"Node": "\#(node)"}"#)
    }

    private func put(_ catalog: TestStore, _ path: String, _ body: String) async throws {
        var request = HTTPClientRequest(url: catalog.address + path)
        request.method = .PUT
        request.body = .bytes(ByteBuffer(string: body))
        let response = try await ConsulClient.sharedHTTPClient.execute(request, timeout: .seconds(10))
        #expect(response.status.code == 200)
        _ = try await response.body.collect(upTo: 1 << 20)
    }
}

/// Two instances of `web`, with Consul's index behaviour: check changes move only the
/// health-state index. Blocking reads wait (in short steps) until their index moves or their
/// wait ends, and end early when cancelled.
private actor ConsulLikeCatalog: ServiceCatalog {
    private(set) var servicesIndex: UInt64 = 1
    private var healthIndex: UInt64 = 1
    private(set) var instanceReads = 0

    private func countInstanceRead() { instanceReads += 1 }
    private var passing: [String: Bool] = ["web-1": true, "web-2": true]
    private let addresses = ["web-1": "10.0.0.1", "web-2": "10.0.0.2"]

    func setPassing(_ value: Bool, instance: String) {
        passing[instance] = value
        healthIndex += 1
    }

    nonisolated func nodes(options: KVReadOptions) async throws(KVError) -> KVRead<[CatalogNodeEntry]> {
        KVRead(value: [CatalogNodeEntry(name: "web-1", address: "10.0.0.1"), CatalogNodeEntry(name: "web-2", address: "10.0.0.2")], index: 1)
    }

    nonisolated func services(options: KVReadOptions) async throws(KVError) -> KVRead<[String: [String]]> {
        let index = await block(options) { $0.servicesIndex }
        return KVRead(value: ["web": []], index: index)
    }

    nonisolated func instances(of service: String, passingOnly: Bool, options: KVReadOptions) async throws(KVError) -> KVRead<[ServiceInstance]> {
        await countInstanceRead()
        let (states, index) = await (self.passing, self.healthIndex)
        let instances = states.keys.sorted().filter { !passingOnly || states[$0] == true }.map { id in
            ServiceInstance(
                node: id, nodeAddress: addresses[id] ?? "", serviceID: id, serviceName: "web", serviceAddress: "", port: 80, tags: [],
                passing: states[id] == true)
        }
        return KVRead(value: instances, index: index)
    }

    nonisolated func checks(inState state: String, options: KVReadOptions) async throws(KVError) -> KVRead<[CatalogCheck]> {
        let index = await block(options) { $0.healthIndex }
        let failing = await passing.filter { !$0.value }.keys.sorted()
        let checks = failing.map { CatalogCheck(node: $0, checkID: "service:\($0)", serviceID: $0, serviceName: "web") }
        return KVRead(value: state == "critical" ? checks : [], index: index)
    }

    private nonisolated func block(_ options: KVReadOptions, _ current: @Sendable (isolated ConsulLikeCatalog) -> UInt64) async -> UInt64 {
        let deadline = ContinuousClock.now + (options.waitTime ?? .zero)
        while true {
            let index = await current(self)
            guard let waitIndex = options.waitIndex, index == waitIndex, ContinuousClock.now < deadline else { return index }
            do { try await Task.sleep(for: .milliseconds(20)) } catch { return index }
        }
    }
}
