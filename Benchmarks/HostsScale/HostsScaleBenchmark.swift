import BenchmarkSupport
import BundleFormat
import Foundation
import KV
import TestFixtures

/// Issue 22: the DNS-backup hosts data at fleet scale. The release binaries: a kv-server holding
/// the catalog, one `git2kv hosts` generator (sharded layout) and N `git2kv render` processes
/// delivering the whole hosts file, plus one renderer that selects three services; each side
/// behind its own proxy that counts requests and bytes on the wire. Per single-instance change
/// (a check going critical; an instance re-registered at a new address): the generator's
/// requests and bytes, the bytes each node downloads, and the time until every renderer has
/// renamed the new file into place. Then the idle request rate of the generator and a node.
enum HostsScaleBenchmark {
    struct Size: Sendable {
        let label: String
        let services: Int
        let nodes: Int
        let renderers: Int
    }

    struct EventCost: Sendable {
        var generatorRequests: Int
        var generatorBytes: Int
        var bytesPerNode: Double
        var requestsPerNode: Double
        var subsetBytes: Int
        var toAllNodes: Duration
    }

    struct Report: Sendable {
        var size: Size
        var instances: Int
        var fileBytes: Int
        var lines: Int
        var initialPublish: Duration
        var health: [EventCost] = []
        var registration: [EventCost] = []
        var idleGeneratorPerMinute = 0.0
        var idleNodePerMinute = 0.0
        var rssGenerator = 0
        var rssRenderer = 0
        var rssKVServer = 0
    }

    private struct Counters {
        var generator: (requests: Int, bytes: Int)
        var nodes: (requests: Int, bytes: Int)
        var subset: Int

        var total: Int { generator.requests + generator.bytes + nodes.requests + nodes.bytes + subset }
    }

    static func measure(_ size: Size, healthEvents: Int, registrationEvents: Int, idle: Duration) async throws -> Report {
        let directory = try TemporaryDirectory(prefix: "git2kv-bench-hosts")
        defer { directory.remove() }
        let (kvServer, kvPort) = try Git2KVBinary.startKVServer()
        defer { kvServer.kill() }
        let fixture = CatalogFixture(services: size.services, instancesPerService: 10, nodes: size.nodes, address: "http://127.0.0.1:\(kvPort)")
        try await fixture.registerAll()
        let generatorProxy = try ByteCountingProxy(upstreamPort: kvPort)
        let nodeProxy = try ByteCountingProxy(upstreamPort: kvPort)
        let subsetProxy = try ByteCountingProxy(upstreamPort: kvPort)
        let kv = ConsulClient(.init(address: "http://127.0.0.1:\(kvPort)"))

        let generatorConfig = directory.appending("hosts.yaml")
        try "kv: { address: \"http://127.0.0.1:\(generatorProxy.port)\" }\nkey: dns/hosts\nrefresh: 10m\nshards: 256\n"
            .write(toFile: generatorConfig, atomically: true, encoding: .utf8)
        let started = ContinuousClock.now
        let generator = try BackgroundProcess(
            Git2KVBinary.path, ["hosts", "--config", generatorConfig, "--log-level", "warning"], standardErrorFile: directory.appending("hosts.log"))
        defer { generator.kill() }
        var manifest: HostsManifest?
        while manifest == nil {
            if let entry = try await kv.get("dns/hosts").value { manifest = try HostsManifest.decode(entry.value) }
            guard started.duration(to: .now) < .seconds(600) else { throw BenchmarkFailure("the generator published nothing in 10 minutes") }
            try await Task.sleep(for: .milliseconds(20))
        }
        var report = Report(
            size: size, instances: fixture.instances, fileBytes: 0, lines: manifest?.lines ?? 0, initialPublish: started.duration(to: .now))

        let destinations = (0..<size.renderers).map { directory.appending("r\($0)/hosts") }
        var renderers: [BackgroundProcess] = []
        defer { for renderer in renderers { renderer.kill() } }
        for (number, destination) in destinations.enumerated() {
            renderers.append(try startRenderer(directory: directory.appending("r\(number)"), destination: destination, port: nodeProxy.port, selection: nil))
        }
        let subsetDestination = directory.appending("subset/hosts")
        renderers.append(
            try startRenderer(directory: directory.appending("subset"), destination: subsetDestination, port: subsetProxy.port, selection: "[svc-1, svc-2, svc-3]"))
        while !(destinations + [subsetDestination]).allSatisfy({ FileManager.default.fileExists(atPath: $0) }) {
            guard started.duration(to: .now) < .seconds(900) else { throw BenchmarkFailure("renderers delivered nothing in 15 minutes") }
            try await Task.sleep(for: .milliseconds(50))
        }
        let delivered = try Data(contentsOf: URL(fileURLWithPath: destinations[0]))
        report.fileBytes = delivered.count
        guard SHA256Hex.of(Array(delivered)) == manifest?.sha256 else { throw BenchmarkFailure("the delivered hosts file does not match the manifest") }

        func counters() -> Counters {
            Counters(
                generator: (generatorProxy.requests, generatorProxy.sent + generatorProxy.received),
                nodes: (nodeProxy.requests, nodeProxy.sent + nodeProxy.received), subset: subsetProxy.sent + subsetProxy.received)
        }
        /// Until no counter moved for half a second (every delivery and re-issued query done).
        func quiesce() async throws {
            var last = counters().total
            var stableSince = ContinuousClock.now
            let start = ContinuousClock.now
            while stableSince.duration(to: .now) < .milliseconds(500) {
                try await Task.sleep(for: .milliseconds(50))
                let now = counters().total
                if now != last { (last, stableSince) = (now, .now) }
                guard start.duration(to: .now) < .seconds(120) else { throw BenchmarkFailure("traffic never settled") }
            }
        }
        func event(_ change: () async throws -> Void, check: (String) -> Bool) async throws -> EventCost {
            try await quiesce()
            let before = counters()
            let replacement = FileReplacement(destinations)
            try await change()
            let start = ContinuousClock.now
            try await replacement.waitUntilAllReplaced(within: .seconds(120), what: "renderers never got the change")
            let toAll = start.duration(to: .now)
            try await quiesce()
            let after = counters()
            let text = String(decoding: try Data(contentsOf: URL(fileURLWithPath: destinations[destinations.count - 1])), as: UTF8.self)
            guard check(text) else { throw BenchmarkFailure("a renderer's file does not show the change") }
            let renderers = Double(destinations.count)
            return EventCost(
                generatorRequests: after.generator.requests - before.generator.requests, generatorBytes: after.generator.bytes - before.generator.bytes,
                bytesPerNode: Double(after.nodes.bytes - before.nodes.bytes) / renderers,
                requestsPerNode: Double(after.nodes.requests - before.nodes.requests) / renderers, subsetBytes: after.subset - before.subset,
                toAllNodes: toAll)
        }

        for number in 0..<healthEvents {
            let instance = (number * 7_919 + 11) % fixture.instances
            report.health.append(
                try await event({ try await fixture.register(instance: instance, status: "critical") }) { !$0.contains(fixture.line(ofInstance: instance) + "\n") })
        }
        for number in 0..<registrationEvents {
            let instance = (number * 104_729 + 5) % fixture.instances
            let address = "192.168.\(number / 256).\(number % 256)"
            report.registration.append(
                try await event({ try await fixture.register(instance: instance, status: "passing", serviceAddress: address) }) {
                    $0.contains(fixture.line(ofInstance: instance, serviceAddress: address) + "\n")
                })
        }

        try await quiesce()
        let idleStart = counters()
        try await Task.sleep(for: idle)
        let idleEnd = counters()
        let minutes = idle.milliseconds / 60_000
        report.idleGeneratorPerMinute = Double(idleEnd.generator.requests - idleStart.generator.requests) / minutes
        report.idleNodePerMinute = Double(idleEnd.nodes.requests - idleStart.nodes.requests) / Double(destinations.count) / minutes
        report.rssGenerator = ResidentMemory.kilobytes(of: generator.processIdentifier) ?? 0
        report.rssRenderer = Int(median(renderers.dropLast().map { Double(ResidentMemory.kilobytes(of: $0.processIdentifier) ?? 0) }))
        report.rssKVServer = ResidentMemory.kilobytes(of: kvServer.processIdentifier) ?? 0
        return report
    }

    private static func startRenderer(directory: String, destination: String, port: Int, selection: String?) throws -> BackgroundProcess {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let config = directory + "/render.yaml"
        try """
            kv: { address: "http://127.0.0.1:\(port)" }
            state_dir: \(directory)/state
            wait: { min: 10ms, max: 100ms }
            outputs:
              - { bundle: dns/hosts, file: hosts, destination: \(destination)\(selection.map { ", hosts: { services: \($0) }" } ?? "") }

            """.write(toFile: config, atomically: true, encoding: .utf8)
        return try BackgroundProcess(Git2KVBinary.path, ["render", "--config", config, "--log-level", "error"])
    }
}
