import BenchmarkSupport
import BundleFormat
import Foundation
import KV
import Pipeline
import TestFixtures

/// Issue 23's benchmark: 1,000 real `git2kv render` processes (or as many as half the free
/// memory holds), each reporting what it delivered, on the kv-server binary. After one change:
/// how many KV writes the reports cost (the store's index counts every write), how fast they
/// arrive (per second, from the reports' own times), with and without the command's `splay`,
/// and how long until `status --rollout` (RolloutStatus, one recursive read) shows N/N current.
enum ReportBenchmark {
    struct Round {
        var writes: Int
        var peakPerSecond: Int
        var spread: Double
        var untilAllCurrent: Duration
    }

    static func run(rounds: Int, renderers requested: Int = 1_000, splay: Duration = .seconds(10)) async throws -> String {
        let (kvServer, kvPort) = try Git2KVBinary.startKVServer()
        defer { kvServer.kill() }
        let address = "http://127.0.0.1:\(kvPort)"
        let kv = ConsulClient(.init(address: address))
        let parked: @Sendable () async throws -> Int = { try await RenderBenchmark.blockingQueries(address) }
        let outputs = try TemporaryDirectory(prefix: "git2kv-bench-report", in: "/dev/shm")
        defer { outputs.remove() }
        let (count, perRenderer) = try await ProcessFleet.affordable(
            requested, store: kv, kvSetting: "{ address: \"\(address)\" }", directory: outputs.appending("probe"), fleets: 1, parkedWatches: parked)

        var results: [(label: String, rounds: [Round])] = []
        for (label, bound) in [("no splay", Duration.zero), ("splay \(splay.components.seconds) s", splay)] {
            let prefix = bound == .zero ? "bench/now" : "bench/splayed"
            var settings = ProcessFleet.NodeSettings(topLevel: { ["report: { prefix: \(prefix)-reports, node: node-\($0) }"] })
            settings.output = bound == .zero ? ", command: [\"/bin/true\"]" : ", command: [\"/bin/true\"], splay: \(bound.components.seconds)s"
            let fleet = try await ProcessFleet.start(
                count: count, store: kv, kvSetting: "{ address: \"\(address)\" }", directory: outputs.appending(prefix), key: prefix + "/web",
                settings: settings, parkedWatches: parked)
            // Round 0's reports (written at start) are in; each round then measures one change.
            _ = try await allCurrent(kv, prefix: prefix, count: count, since: .now, timeout: .seconds(300))
            var measured: [Round] = []
            for round in 1...rounds {
                try await fleet.waitUntilParked(round: round, otherWatches: 0)
                let before = try await kv.get(prefix + "/none").index
                let started = ContinuousClock.now
                try await kv.put(prefix + "/web", value: try ProcessFleet.value(round: round))
                let until = try await allCurrent(kv, prefix: prefix, count: count, since: started, timeout: .seconds(300))
                let after = try await kv.get(prefix + "/none").index
                let times = try await kv.list(prefix: prefix + "-reports/").value.compactMap { try? DeliveryReport.decode($0.value, key: $0.key).reportedAt }
                let buckets = Dictionary(grouping: times, by: { Int($0) }).mapValues(\.count)
                measured.append(
                    Round(
                        writes: Int(after - before) - 1, peakPerSecond: buckets.values.max() ?? 0,
                        spread: (times.max() ?? 0) - (times.min() ?? 0), untilAllCurrent: until))
            }
            fleet.stop()
            results.append((label, measured))
        }

        let label = count == requested ? count.formatted() : "\(count.formatted()) (as many as half the free memory holds at \(perRenderer / 1024) MiB private each)"
        var rows: [String] = []
        for (name, rounds) in results {
            let writes = rounds.map(\.writes)
            let spread = median(rounds.map(\.spread))
            let mean = Double(count) / max(spread, 1)
            var until = Timings(name: name)
            for round in rounds { until.record(round.untilAllCurrent) }
            rows.append(
                "| \(name) | \(writes.map(String.init).joined(separator: ", ")) (\(String(format: "%.2f", median(writes.map(Double.init)) / Double(count))) per node) | \(Int(median(rounds.map { Double($0.peakPerSecond) }))) | \(String(format: "%.0f/s (spread over %.1f s)", mean, spread)) | \(formatMilliseconds(until.median)) (min \(formatMilliseconds(until.minimum)), max \(formatMilliseconds(until.maximum))) |"
            )
        }
        let splayed = results[1].rounds.map { Double($0.peakPerSecond) }
        let unsplayed = results[0].rounds.map { Double($0.peakPerSecond) }
        let writesPerNode = results.flatMap(\.rounds).map { Double($0.writes) / Double(count) }
        return """
            Machine: \(machineDescription()); \(rounds) rounds per mode, medians. \(label) `git2kv render` processes on the kv-server binary, each with one output whose command is `/bin/true`; outputs and state on tmpfs. Each round writes one new commit of the bundle.

            | mode | KV writes the reports cost, per round | peak writes in one second | mean writes per second | change written → `status --rollout` shows \(count.formatted())/\(count.formatted()) current |
            |---|---|---|---|---|
            \(rows.joined(separator: "\n"))

            Peak write rate with splay next to without: \(String(format: "%.2f×", median(splayed) / max(median(unsplayed), 1))). `status --rollout` is polled every 250 ms (one recursive read of the reports and one read of the bundle's header each time), so its time is good to a quarter second.

            \(targetLine("at most one report write per node per delivered change", met: writesPerNode.allSatisfy { $0 <= 1.0 }, measured: String(format: "%.2f per node (max)", writesPerNode.max() ?? 0)))
            \(targetLine("splay spreads the writes (peak per second lower than without)", met: median(splayed) < median(unsplayed), measured: "\(Int(median(splayed))) vs \(Int(median(unsplayed)))"))
            """
    }

    /// Polls the rollout status of the bundle until every node reports round's commit current.
    static func allCurrent(_ kv: any KVStore, prefix: String, count: Int, since started: ContinuousClock.Instant, timeout: Duration) async throws -> Duration {
        let target = MappingTarget(repo: "bench", reference: "main", mapping: MappingConfig(source: "apps", prefix: prefix))
        let deadline = ContinuousClock.now + timeout
        while true {
            let status = try await RolloutStatus.read(target: target, bundle: "web", kv: kv, reportsPrefix: prefix + "-reports")
            if let bundle = status.bundles.first, bundle.nodes == count, bundle.current == count { return started.duration(to: .now) }
            guard ContinuousClock.now < deadline else {
                throw BenchmarkFailure("status --rollout showed \(status.bundles.first?.current ?? 0)/\(count) current after \(timeout)")
            }
            try await Task.sleep(for: .milliseconds(250))
        }
    }
}
