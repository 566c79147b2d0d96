import BenchmarkSupport
import Foundation
import KV
import Synchronization
import TestFixtures

/// `git2kv kv-server --data-dir` holding a million keys: how long a restart takes, how long a
/// read waits while a snapshot is written (the log passes 64 MiB several times while the keys
/// load), and the server's memory. The release binary in its own process, on this machine's disk.
enum KVScaleBenchmark {
    static let loaders = 8
    static let operationsPerTransaction = 64

    static func run(keys: Int, restarts: Int) async throws -> String {
        let directory = try TemporaryDirectory(prefix: "git2kv-bench-kv-scale")
        defer { directory.remove() }
        let data = directory.appending("data")
        var (server, port) = try Git2KVBinary.startKVServer(dataDirectory: data)
        let client = ConsulClient(.init(address: "http://127.0.0.1:\(port)", requestTimeout: .seconds(60)))
        try await client.put("probe", value: Array("here".utf8))

        let probe = Probe(client: client, snapshotFile: data + "/snapshot.bin.tmp")
        let probing = Task { await probe.run() }
        let loadStart = ContinuousClock.now
        let writes = try await load(keys: keys, client: client)
        let loadTime = ContinuousClock.now - loadStart
        // Writes that overwrite keys, so snapshots also run against a full table.
        let overwrites = try await load(keys: min(keys, 200_000), client: client, round: 1)
        probing.cancel()
        let probes = await probing.value
        let residentAfterLoad = ResidentMemory.kilobytes(of: server.processIdentifier) ?? 0
        let peak = ResidentMemory.peakKilobytes(of: server.processIdentifier) ?? 0

        var restartTimes = Timings(name: "restart")
        for _ in 0..<restarts {
            guard server.stop(SIGTERM) == 0 else { throw BenchmarkFailure("kv-server did not stop cleanly on SIGTERM") }
            let started = ContinuousClock.now
            (server, port) = try Git2KVBinary.startKVServer(dataDirectory: data)
            let reader = ConsulClient(.init(address: "http://127.0.0.1:\(port)", requestTimeout: .seconds(60)))
            guard try await reader.get("probe").value != nil else { throw BenchmarkFailure("the restarted server lost the probe key") }
            restartTimes.record(ContinuousClock.now - started)
            let count = try await reader.keys(prefix: "scale/", separator: nil, options: KVReadOptions()).value.count
            guard count == keys else { throw BenchmarkFailure("the restarted server holds \(count) of \(keys) keys") }
        }
        let residentAfterRestart = ResidentMemory.kilobytes(of: server.processIdentifier) ?? 0
        server.kill(SIGTERM)
        let snapshotSize = (try? FileManager.default.attributesOfItem(atPath: data + "/snapshot.bin")[.size] as? Int) ?? 0

        let during = probes.duringSnapshot
        let worstDuring = during.maximum
        let worstWrite = writes.slowest > overwrites.slowest ? writes.slowest : overwrites.slowest
        return """
            Machine: \(ProcessInfo.processInfo.activeProcessorCount) cores, \(Int((Double(ProcessInfo.processInfo.physicalMemory) / 1_073_741_824).rounded())) GiB; \(keys) keys of 64-byte values loaded by \(loaders) clients in transactions of \(operationsPerTransaction) sets (then \(min(keys, 200_000)) overwritten), kv-server --data-dir on local disk.

            | measure | result | target |
            |---|---|---|
            | load | \(String(format: "%.1f", loadTime.milliseconds / 1000)) s (\(Int(Double(keys) / (loadTime.milliseconds / 1000))) keys/s) | — |
            | snapshots written during the load | \(probes.snapshotsSeen) (snapshot.bin \(snapshotSize / 1_048_576) MiB) | — |
            | read during a snapshot, median / worst | \(formatMilliseconds(during.median)) / \(formatMilliseconds(worstDuring)) (\(during.samples.count) reads) | worst under 100 ms |
            | read outside snapshots, median / worst | \(formatMilliseconds(probes.outside.median)) / \(formatMilliseconds(probes.outside.maximum)) | — |
            | slowest 64-key transaction (whole run) | \(formatMilliseconds(worstWrite)) | — |
            | restart until the first read answers, median of \(restarts) | \(String(format: "%.2f", restartTimes.median.milliseconds / 1000)) s (min \(String(format: "%.2f", restartTimes.minimum.milliseconds / 1000)) s, max \(String(format: "%.2f", restartTimes.maximum.milliseconds / 1000)) s) | under 15 s |
            | RSS after the load / peak / after a restart | \(residentAfterLoad / 1024) MiB / \(peak / 1024) MiB / \(residentAfterRestart / 1024) MiB | — |

            \(targetLine("restart with \(keys) keys under 15 s", met: restartTimes.median < .seconds(15), measured: String(format: "%.2f s", restartTimes.median.milliseconds / 1000)))
            \(targetLine("no read stalls over 100 ms during a snapshot", met: probes.snapshotsSeen > 0 && worstDuring < .milliseconds(100), measured: "\(formatMilliseconds(worstDuring)) worst over \(probes.snapshotsSeen) snapshots"))
            """
    }

    struct LoadResult {
        var slowest: Duration = .zero
    }

    /// Sets `keys` keys (spread over 1,000 prefixes, in an order unlike their sort order).
    static func load(keys: Int, client: ConsulClient, round: Int = 0) async throws -> LoadResult {
        let value = [UInt8](repeating: UInt8(ascii: "a") + UInt8(round), count: 64)
        let batches = (keys + operationsPerTransaction - 1) / operationsPerTransaction
        let slowest = try await withThrowingTaskGroup(of: Duration.self) { group in
            for loader in 0..<loaders {
                group.addTask {
                    var worst = Duration.zero
                    for batch in stride(from: loader, to: batches, by: loaders) {
                        let operations = (batch * operationsPerTransaction..<min(keys, (batch + 1) * operationsPerTransaction)).map { number in
                            // A multiplicative scramble: neighbouring numbers land far apart in key order.
                            let scrambled = (number &* 2_654_435_761) % 1_000_003
                            return KVOperation.set(key: "scale/\(scrambled % 1000)/\(number)", value: value)
                        }
                        let started = ContinuousClock.now
                        _ = try await client.transaction(operations)
                        worst = max(worst, ContinuousClock.now - started)
                    }
                    return worst
                }
            }
            return try await group.reduce(Duration.zero) { max($0, $1) }
        }
        return LoadResult(slowest: slowest)
    }
}

/// Reads one key every 10 ms and notes whether a snapshot was being written at the time.
actor Probe {
    let client: ConsulClient
    let snapshotFile: String

    struct Results: Sendable {
        var duringSnapshot = Timings(name: "during a snapshot")
        var outside = Timings(name: "outside snapshots")
        var snapshotsSeen = 0
    }

    init(client: ConsulClient, snapshotFile: String) {
        self.client = client
        self.snapshotFile = snapshotFile
    }

    func run() async -> Results {
        var results = Results()
        var inSnapshot = false
        while !Task.isCancelled {
            let before = FileManager.default.fileExists(atPath: snapshotFile)
            let started = ContinuousClock.now
            guard (try? await client.get("probe")) != nil else { break }
            let elapsed = ContinuousClock.now - started
            let after = FileManager.default.fileExists(atPath: snapshotFile)
            if before || after {
                results.duringSnapshot.record(elapsed)
                if !inSnapshot { results.snapshotsSeen += 1 }
            } else {
                results.outside.record(elapsed)
            }
            inSnapshot = before || after
            try? await Task.sleep(for: .milliseconds(10))
        }
        return results
    }
}
