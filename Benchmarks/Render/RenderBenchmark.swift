import AsyncHTTPClient
import BenchmarkSupport
import BundleFormat
import Foundation
import KV
import KVServer
import NIOCore
import TestFixtures

/// Issue 6's benchmarks, measured as a fleet runs them (issue 22): real `git2kv render`
/// processes (1,000, or as many as half the free memory holds) watching one bundle, on the
/// kv-server binary and on a real etcd member at the same time, rounds alternating between the
/// two stores; each round waits until the store itself reports every watch parked, writes a new
/// value and times until every renderer has renamed its new file into place, with the CPU the
/// renderers spent. Peers: 1,000 bare blocking reads on each store, also confirmed parked. And
/// one `git2kv render` process watching 10 bundles: its RSS and its idle request rate.
enum RenderBenchmark {
    static let watchers = 1_000

    static func run(rounds: Int, renderers requested: Int = 1_000) async throws -> String {
        let directory = try TemporaryDirectory(prefix: "git2kv-bench-render")
        defer { directory.remove() }
        let (kvServer, kvPort) = try Git2KVBinary.startKVServer()
        defer { kvServer.kill() }
        let kvAddress = "http://127.0.0.1:\(kvPort)"
        let kv = ConsulClient(.init(address: kvAddress))
        let etcd = try EtcdCluster()
        defer { etcd.stop() }
        try await etcd.waitUntilReady()
        let etcdClient = EtcdClient(.init(endpoints: etcd.endpoints))
        let kvParked: @Sendable () async throws -> Int = { try await blockingQueries(kvAddress) }
        let etcdParked: @Sendable () async throws -> Int = { [endpoint = etcd.endpoints[0]] in try await etcdWatchers(endpoint) }

        var bare = Timings(name: "1,000 blocking queries")
        var etcdBare = Timings(name: "1,000 etcd watches")
        for round in 1...rounds {
            bare.record(try await bareFanOut(kv, round: round, parked: kvParked))
            etcdBare.record(try await bareFanOut(etcdClient, round: round, parked: etcdParked))
        }

        let outputs = try TemporaryDirectory(prefix: "git2kv-bench-render", in: "/dev/shm")
        defer { outputs.remove() }
        let (count, perRenderer) = try await ProcessFleet.affordable(
            requested, store: kv, kvSetting: "{ address: \"\(kvAddress)\" }", directory: outputs.appending("probe"), fleets: 2, parkedWatches: kvParked)
        let kvFleet = try await ProcessFleet.start(
            count: count, store: kv, kvSetting: "{ address: \"\(kvAddress)\" }", directory: outputs.appending("kv"), key: "bench/render/kv",
            parkedWatches: kvParked)
        defer { kvFleet.stop() }
        let etcdFleet = try await ProcessFleet.start(
            count: count, store: etcdClient, kvSetting: "{ backend: etcd, address: \"\(etcd.endpoints[0])\" }", directory: outputs.appending("etcd"),
            key: "bench/render/etcd", parkedWatches: etcdParked)
        defer { etcdFleet.stop() }
        var render = Timings(name: "renderers on kv-server")
        var etcdRender = Timings(name: "renderers on etcd")
        var kvCPU: [Double] = []
        var etcdCPU: [Double] = []
        for round in 1...rounds {
            let onKV = try await kvFleet.deliver(round: round, otherWatches: 0)
            try kvFleet.verify(round: round)
            let onEtcd = try await etcdFleet.deliver(round: round, otherWatches: 0)
            try etcdFleet.verify(round: round)
            render.record(onKV.duration)
            etcdRender.record(onEtcd.duration)
            kvCPU.append(onKV.rendererCPU.milliseconds)
            etcdCPU.append(onEtcd.rendererCPU.milliseconds)
        }
        let footprint = try await renderProcess(directory: directory)
        func cpu(_ values: [Double]) -> String {
            String(format: "%.0f ms (%.1f ms a renderer; 2 cores give %.0f ms of CPU per second)", median(values), median(values) / Double(count), 2_000.0)
        }
        func ratio(_ a: Timings, _ b: Timings) -> String { String(format: "%.1f×", a.median.milliseconds / max(b.median.milliseconds, 0.001)) }
        let label = count == requested ? count.formatted() : "\(count.formatted()) (as many as half the free memory holds at \(perRenderer / 1024) MiB private each)"
        return """
            Machine: \(machineDescription()); \(rounds) rounds alternating between the stores, medians. \(label) `git2kv render` processes per store, outputs and state on tmpfs.

            | measure | git2kv render processes | peer (1,000 bare blocking reads, same server, same run) | ratio | target |
            |---|---|---|---|---|
            | KV write → every renderer delivered, kv-server (`wait` 0) | \(formatMilliseconds(render.median)) (min \(formatMilliseconds(render.minimum)), max \(formatMilliseconds(render.maximum))) | \(formatMilliseconds(bare.median)) | \(ratio(render, bare)) | under 500 ms |
            | the same on etcd (one member, data on tmpfs) | \(formatMilliseconds(etcdRender.median)) (min \(formatMilliseconds(etcdRender.minimum)), max \(formatMilliseconds(etcdRender.maximum))) | \(formatMilliseconds(etcdBare.median)) | \(ratio(etcdRender, etcdBare)) | under 500 ms |
            | renderers' CPU per round (user + system, all of them), kv-server | \(cpu(kvCPU)) | — | — | — |
            | renderers' CPU per round, etcd | \(cpu(etcdCPU)) | — | — | — |

            etcd next to kv-server: \(String(format: "%.2f×", etcdRender.median.milliseconds / max(render.median.milliseconds, 0.001))) (renderers), \(String(format: "%.2f×", etcdBare.median.milliseconds / max(bare.median.milliseconds, 0.001))) (bare blocking reads).

            | measure | result | target |
            |---|---|---|
            | one `git2kv render` watching 10 bundles: RSS after delivering | \(footprint.rss) MiB | — |
            | same process, peak RSS | \(footprint.peak) MiB | under 30 MB |
            | of the RSS: private anonymous memory (heap, stacks) | \(footprint.anonymous) MiB | — |
            | of the RSS: proportional share (PSS; code pages shared with other processes counted in part) | \(footprint.proportional) MiB | — |
            | idle: requests per bundle per watch wait (`watch.wait` 2 s, 10 s measured) | \(String(format: "%.2f", footprint.requestsPerBundlePerWait)) | 1 |

            \(targetLine("\(count.formatted()) renderer processes delivered under 500 ms (kv-server)", met: render.median < .milliseconds(500), measured: formatMilliseconds(render.median)))
            \(targetLine("\(count.formatted()) renderer processes delivered under 500 ms (etcd)", met: etcdRender.median < .milliseconds(500), measured: formatMilliseconds(etcdRender.median)))
            \(targetLine("renderer peak RSS under 30 MB", met: footprint.peak * 1_048_576 < 30_000_000, measured: "\(footprint.peak) MiB"))
            \(targetLine("idle: one request per bundle per watch wait", met: footprint.requestsPerBundlePerWait <= 1.05, measured: String(format: "%.2f", footprint.requestsPerBundlePerWait)))
            """
    }

    /// The kv-server binary's count of parked blocking queries (its `/v1/agent/metrics` gauge).
    static func blockingQueries(_ address: String) async throws -> Int {
        let answer = try await httpGet(address + "/v1/agent/metrics")
        guard let object = try JSONSerialization.jsonObject(with: answer) as? [String: Any], let gauges = object["Gauges"] as? [[String: Any]],
            let gauge = gauges.first(where: { $0["Name"] as? String == "git2kv.kv_server.blocking_queries" }), let value = gauge["Value"] as? Double
        else { throw BenchmarkFailure("kv-server's metrics lack the blocking query gauge") }
        return Int(value)
    }

    /// etcd's count of watchers (`etcd_debugging_mvcc_watcher_total` on /metrics).
    static func etcdWatchers(_ endpoint: String) async throws -> Int {
        let text = String(decoding: try await httpGet(endpoint + "/metrics"), as: UTF8.self)
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("etcd_debugging_mvcc_watcher_total ") }),
            let value = Double(line.split(separator: " ").last ?? "")
        else { throw BenchmarkFailure("etcd's metrics lack etcd_debugging_mvcc_watcher_total") }
        return Int(value)
    }

    static func httpGet(_ url: String) async throws -> Data {
        var request = HTTPClientRequest(url: url)
        request.method = .GET
        let response = try await ConsulClient.sharedHTTPClient.execute(request, timeout: .seconds(10))
        return Data(try await response.body.collect(upTo: 16 << 20).readableBytesView)
    }

    /// 1,000 blocking queries on one key, one write once the store reports them all parked: the
    /// time until the last one has it.
    static func bareFanOut(_ kv: any KVStore, round: Int, parked: @Sendable () async throws -> Int) async throws -> Duration {
        let key = "bench/bare/\(round)"
        try await kv.put(key, value: [0])
        let start = try await kv.get(key)
        let tasks = (0..<watchers).map { _ in
            Task { () throws -> ContinuousClock.Instant in
                _ = try await kv.get(key, options: KVReadOptions(waitIndex: start.index, waitTime: .seconds(60)))
                return .now
            }
        }
        let deadline = ContinuousClock.now + .seconds(60)
        while try await parked() < watchers {
            guard ContinuousClock.now < deadline else { throw BenchmarkFailure("the bare blocking reads did not all park") }
            try await Task.sleep(for: .milliseconds(10))
        }
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
            try await kv.put("bench/ten/b\(index)", value: try ProcessFleet.value(round: index))
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
