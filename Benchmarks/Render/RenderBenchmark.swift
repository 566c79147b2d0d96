import BenchmarkSupport
import BundleFormat
import Foundation
import KV
import KVServer
import Logging
import Renderer
import TestFixtures

/// Issue 6's benchmarks: 1,000 renderer watches on one bundle (one process, the kv-server binary
/// in another) from the KV write until all have verified and delivered the file, next to 1,000
/// bare blocking queries on a key in the same run (the wake-up alone); and one `git2kv render`
/// process watching 10 bundles: its RSS and its requests per bundle per watch wait when idle.
/// The fan-out runs again on a real etcd member (Debian's etcd-server) in the same run.
enum RenderBenchmark {
    static let watchers = 1_000

    static func run(rounds: Int) async throws -> String {
        let directory = try TemporaryDirectory(prefix: "git2kv-bench-render")
        defer { directory.remove() }
        let (kvServer, kvPort) = try Git2KVBinary.startKVServer()
        defer { kvServer.kill() }
        let kv = ConsulClient(.init(address: "http://127.0.0.1:\(kvPort)"))

        var render = Timings(name: "1,000 renderers")
        var bare = Timings(name: "1,000 blocking queries")
        // The bare queries go first: with the fleet's 1,000 watches open, the connection pool is full.
        for round in 1...rounds { bare.record(try await bareFanOut(kv, round: round)) }
        try await measureFleet(&render, rounds: rounds, kv: kv, directory: directory, key: "bench/render/disk")
        // The same on tmpfs: 1,000 simulated nodes sharing one ext4 directory spend most of a
        // round in the kernel's inode allocator, which a real fleet (one disk per node) does not.
        var tmpfs = Timings(name: "1,000 renderers on tmpfs")
        let shared = try TemporaryDirectory(prefix: "git2kv-bench-render", in: "/dev/shm")
        defer { shared.remove() }
        try await measureFleet(&tmpfs, rounds: rounds, kv: kv, directory: shared, key: "bench/render/tmpfs")

        let etcd = try EtcdCluster()
        defer { etcd.stop() }
        try await etcd.waitUntilReady()
        let etcdClient = EtcdClient(.init(endpoints: etcd.endpoints))
        var etcdBare = Timings(name: "1,000 etcd watches")
        for round in 1...rounds { etcdBare.record(try await bareFanOut(etcdClient, round: round)) }
        var etcdFleet = Timings(name: "1,000 renderers on etcd")
        let etcdShared = try TemporaryDirectory(prefix: "git2kv-bench-render-etcd", in: "/dev/shm")
        defer { etcdShared.remove() }
        try await measureFleet(&etcdFleet, rounds: rounds, kv: etcdClient, kvSetting: "{ backend: etcd, address: \"\(etcd.endpoints[0])\" }", directory: etcdShared, key: "bench/render/etcd")
        let footprint = try await renderProcess(directory: directory)
        return """
            Machine: \(machineDescription()); \(rounds) rounds, medians.

            | measure | git2kv render | peer (bare blocking queries, same server, same run) | ratio | target |
            |---|---|---|---|---|
            | KV write → 1,000 watches verified and delivered (one process, `wait` 0), outputs on ext4 | \(formatMilliseconds(render.median)) (min \(formatMilliseconds(render.minimum)), max \(formatMilliseconds(render.maximum))) | \(formatMilliseconds(bare.median)) | \(String(format: "%.1f×", render.median.milliseconds / max(bare.median.milliseconds, 0.001))) | under 500 ms |
            | the same, outputs and state on tmpfs (/dev/shm) | \(formatMilliseconds(tmpfs.median)) (min \(formatMilliseconds(tmpfs.minimum)), max \(formatMilliseconds(tmpfs.maximum))) | \(formatMilliseconds(bare.median)) | \(String(format: "%.1f×", tmpfs.median.milliseconds / max(bare.median.milliseconds, 0.001))) | under 500 ms |
            | the same on etcd (one member, data on tmpfs), outputs on tmpfs; peer: 1,000 bare blocking reads (watch streams) on etcd | \(formatMilliseconds(etcdFleet.median)) (min \(formatMilliseconds(etcdFleet.minimum)), max \(formatMilliseconds(etcdFleet.maximum))) | \(formatMilliseconds(etcdBare.median)) | \(String(format: "%.1f×", etcdFleet.median.milliseconds / max(etcdBare.median.milliseconds, 0.001))) | under 500 ms |

            etcd next to kv-server on tmpfs: \(String(format: "%.2f×", etcdFleet.median.milliseconds / max(tmpfs.median.milliseconds, 0.001))) (renderers), \(String(format: "%.2f×", etcdBare.median.milliseconds / max(bare.median.milliseconds, 0.001))) (bare blocking reads).

            | measure | result | target |
            |---|---|---|
            | one `git2kv render` watching 10 bundles: RSS after delivering | \(footprint.rss) MiB | — |
            | same process, peak RSS | \(footprint.peak) MiB | under 30 MB |
            | of the RSS: private anonymous memory (heap, stacks) | \(footprint.anonymous) MiB | — |
            | of the RSS: proportional share (PSS; code pages shared with other processes counted in part) | \(footprint.proportional) MiB | — |
            | idle: requests per bundle per watch wait (`watch.wait` 2 s, 10 s measured) | \(String(format: "%.2f", footprint.requestsPerBundlePerWait)) | 1 |

            \(targetLine("1,000 renderers delivered under 500 ms (ext4)", met: render.median < .milliseconds(500), measured: formatMilliseconds(render.median)))
            \(targetLine("1,000 renderers delivered under 500 ms (tmpfs)", met: tmpfs.median < .milliseconds(500), measured: formatMilliseconds(tmpfs.median)))
            \(targetLine("1,000 renderers delivered under 500 ms (etcd)", met: etcdFleet.median < .milliseconds(500), measured: formatMilliseconds(etcdFleet.median)))
            \(targetLine("renderer peak RSS under 30 MB", met: footprint.peak * 1_048_576 < 30_000_000, measured: "\(footprint.peak) MiB"))
            \(targetLine("idle: one request per bundle per watch wait", met: footprint.requestsPerBundlePerWait <= 1.05, measured: String(format: "%.2f", footprint.requestsPerBundlePerWait)))
            """
    }

    static func measureFleet(_ timings: inout Timings, rounds: Int, kv: ConsulClient, directory: TemporaryDirectory, key: String) async throws {
        try await measureFleet(&timings, rounds: rounds, kv: kv, kvSetting: "{ address: \"\(kv.configuration.address)\" }", directory: directory, key: key)
    }

    static func measureFleet(
        _ timings: inout Timings, rounds: Int, kv: any KVStore, kvSetting: String, directory: TemporaryDirectory, key: String
    ) async throws {
        let fleet = try await Fleet.start(count: watchers, kv: kv, kvSetting: kvSetting, directory: directory, key: key)
        for round in 1...rounds {
            timings.record(try await fleet.deliver(round: round))
            try fleet.verify(round: round)
        }
        await fleet.stop()
    }

    /// Many renderers in this process, each with its own output file and state directory.
    struct Fleet {
        let kv: any KVStore
        let watchers: [RenderWatcher]
        let tasks: [Task<Void, Never>]
        let destinations: [String]
        let key: String

        static func start(count: Int, kv: any KVStore, kvSetting: String, directory: TemporaryDirectory, key: String) async throws -> Fleet {
            try await kv.put(key, value: try value(round: 0))
            var logger = Logger(label: "bench.render")
            logger.logLevel = .critical
            var watchers: [RenderWatcher] = []
            var tasks: [Task<Void, Never>] = []
            var destinations: [String] = []
            for index in 0..<count {
                let node = directory.appending("node-\(index)")
                try FileManager.default.createDirectory(atPath: node, withIntermediateDirectories: true)
                let destination = node + "/app.conf"
                let config = try RendererConfig.parse(
                    """
                    kv: \(kvSetting)
                    state_dir: \(node)/state
                    wait: { min: 0s, max: 0s }
                    outputs:
                      - { bundle: \(key), file: app.conf, destination: \(destination) }
                    """, file: "bench.yaml")
                let watcher = RenderWatcher(outputs: OutputSet(config: config), store: kv, state: RenderState(), logger: logger)
                watchers.append(watcher)
                tasks.append(Task { await watcher.run() })
                destinations.append(destination)
            }
            let fleet = Fleet(kv: kv, watchers: watchers, tasks: tasks, destinations: destinations, key: key)
            try await fleet.waitUntilAll(delivered: 0)
            try fleet.verify(round: 0)
            return fleet
        }

        static func content(round: Int) -> String {
            (0..<60).map { "upstream backend-\($0) { server 10.0.\(round % 250).\($0):8080; } # round \(round)\n" }.joined()
        }

        static func value(round: Int) throws -> [UInt8] {
            let bundle = ConfigBundle(
                source: BundleSource(repo: "config", branch: "main", path: "apps/web"),
                commit: BundleCommit(id: String(format: "%040x", round), author: "bench", email: "", time: 0, summary: "round \(round)"),
                files: [BundleFile(path: "app.conf", content: Array(content(round: round).utf8))])
            return try BundleEncoder.encode(bundle)
        }

        /// Writes round `round`'s bundle and returns the time until every watcher delivered it.
        func deliver(round: Int) async throws -> Duration {
            let value = try Self.value(round: round)
            try await Task.sleep(for: .milliseconds(500))
            let started = ContinuousClock.now
            try await kv.put(key, value: value)
            try await waitUntilAll(delivered: round)
            return started.duration(to: .now)
        }

        /// Each watcher's pass count says when it is done (cheap to ask while 1,000 are busy);
        /// the files are checked afterwards, outside the timing.
        func waitUntilAll(delivered round: Int) async throws {
            let deadline = ContinuousClock.now + .seconds(60)
            var pending = watchers
            while !pending.isEmpty {
                guard ContinuousClock.now < deadline else { throw BenchmarkFailure("\(pending.count) renderers did not deliver round \(round)") }
                var still: [RenderWatcher] = []
                for watcher in pending where await watcher.passes < round + 1 { still.append(watcher) }
                pending = still
                if !pending.isEmpty { try await Task.sleep(for: .milliseconds(5)) }
            }
        }

        func verify(round: Int) throws {
            let expected = Data(Self.content(round: round).utf8)
            for destination in destinations where FileManager.default.contents(atPath: destination) != expected {
                throw BenchmarkFailure("\(destination) does not hold round \(round)")
            }
        }

        func stop() async {
            for task in tasks { task.cancel() }
            for task in tasks { await task.value }
        }
    }

    /// 1,000 blocking queries on one key, one write: the time until the last one has it.
    static func bareFanOut(_ kv: any KVStore, round: Int) async throws -> Duration {
        let key = "bench/bare/\(round)"
        try await kv.put(key, value: [0])
        let start = try await kv.get(key)
        let tasks = (0..<watchers).map { _ in
            Task { () throws -> ContinuousClock.Instant in
                _ = try await kv.get(key, options: KVReadOptions(waitIndex: start.index, waitTime: .seconds(60)))
                return .now
            }
        }
        try await Task.sleep(for: .seconds(1))
        let written = ContinuousClock.now
        try await kv.put(key, value: [1])
        var latest = written
        for task in tasks { latest = max(latest, try await task.value) }
        return written.duration(to: latest)
    }

    struct Footprint {
        var rss: Int
        var peak: Int
        var requestsPerBundlePerWait: Double
        var anonymous: Int
        var proportional: Int
    }

    /// `git2kv render` watching 10 bundles of an in-process kv-server, whose request counter says
    /// how often an idle renderer asks.
    static func renderProcess(directory: TemporaryDirectory) async throws -> Footprint {
        let server = try await RunningKVServer.start()
        defer { Task { await server.stop() } }
        let kv = ConsulClient(.init(address: server.address))
        var outputs: [String] = []
        for index in 0..<10 {
            try await kv.put("bench/ten/b\(index)", value: try Fleet.value(round: index))
            outputs.append("  - { bundle: bench/ten/b\(index), file: app.conf, destination: \(directory.appending("ten-\(index).conf")) }")
        }
        let configFile = directory.appending("ten.yaml")
        try """
            kv: { address: "\(server.address)" }
            state_dir: \(directory.appending("ten-state"))
            wait: { min: 0s, max: 0s }
            watch: { wait: 2s }
            outputs:
            \(outputs.joined(separator: "\n"))

            """.write(toFile: configFile, atomically: true, encoding: .utf8)
        let renderer = try BackgroundProcess(Git2KVBinary.path, ["render", "--config", configFile, "--log-level", "error"])
        defer { renderer.kill(SIGTERM) }
        let deadline = ContinuousClock.now + .seconds(30)
        while (0..<10).contains(where: { !FileManager.default.fileExists(atPath: directory.appending("ten-\($0).conf")) }) {
            guard ContinuousClock.now < deadline else { throw BenchmarkFailure("the renderer did not deliver its 10 files") }
            try await Task.sleep(for: .milliseconds(20))
        }
        try await Task.sleep(for: .seconds(1))
        let before = server.requests.value
        try await Task.sleep(for: .seconds(10))
        let requests = server.requests.value - before
        let status = try String(contentsOfFile: "/proc/\(renderer.processIdentifier)/status", encoding: .utf8)
        func mebibytes(_ field: String) -> Int {
            let line = status.split(separator: "\n").first { $0.hasPrefix(field + ":") } ?? ""
            return (Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0) / 1024
        }
        let rollup = try String(contentsOfFile: "/proc/\(renderer.processIdentifier)/smaps_rollup", encoding: .utf8)
        func rollupMebibytes(_ field: String) -> Int {
            let line = rollup.split(separator: "\n").first { $0.hasPrefix(field + ":") } ?? ""
            return (Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "0") ?? 0) / 1024
        }
        return Footprint(
            rss: mebibytes("VmRSS"), peak: mebibytes("VmHWM"), requestsPerBundlePerWait: Double(requests) / 10 / 5,
            anonymous: rollupMebibytes("Anonymous"), proportional: rollupMebibytes("Pss"))
    }
}
