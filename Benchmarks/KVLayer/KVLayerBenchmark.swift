import BenchmarkSupport
import Foundation
import KV
import KVServer
import Synchronization
import TestFixtures

/// Fan-out, durable write throughput and idle cost of `git2kv kv-server`, side by side with etcd.
enum KVLayerBenchmark {
    static let watchers = 1_000
    static let writers = 16

    static func run(rounds: Int) async throws -> String {
        let directory = try TemporaryDirectory(prefix: "git2kv-bench-kv")
        defer { directory.remove() }
        let (kvServer, port) = try Git2KVBinary.startKVServer(dataDirectory: directory.appending("data"))
        defer { kvServer.kill() }
        let etcd = try EtcdServer()
        defer { etcd.stop() }
        try await etcd.waitUntilReady()
        let consul = ConsulClient(.init(address: "http://127.0.0.1:\(port)", requestTimeout: .seconds(120)))

        var kvFanOut = Timings(name: "kv-server")
        var etcdFanOut = Timings(name: "etcd")
        var kvWrites: [Double] = []
        var etcdWrites: [Double] = []
        for round in 0..<rounds {
            kvFanOut.record(try await fanOut(consul, round: round))
            etcdFanOut.record(try await fanOut(etcd, round: round))
            kvWrites.append(try await writeRate { writer, sequence in
                try await consul.put("writes/\(writer)/\(sequence % 100)", value: Array("value \(sequence)".utf8))
            })
            etcdWrites.append(try await writeRate { writer, sequence in
                try await etcd.put("writes/\(writer)/\(sequence % 100)", value: "value \(sequence)")
            })
        }
        let idle = try await idleRequestsPerWait()
        return report(
            rounds: rounds, kvFanOut: kvFanOut, etcdFanOut: etcdFanOut, kvWrites: kvWrites, etcdWrites: etcdWrites, idle: idle)
    }

    /// 1,000 blocking queries on one key, one write: the time until the last watcher has it.
    static func fanOut(_ client: ConsulClient, round: Int) async throws -> Duration {
        let key = "fanout/\(round)"
        try await client.put(key, value: [0])
        let start = try await client.get(key)
        let arrivals = Arrivals()
        let tasks = (0..<watchers).map { _ in
            Task {
                let read = try await client.get(key, options: KVReadOptions(waitIndex: start.index, waitTime: .seconds(60)))
                guard read.value?.value == [1] else { throw BenchmarkFailure("a watcher woke without the new value") }
                arrivals.record()
            }
        }
        try await Task.sleep(for: .seconds(2))
        let written = ContinuousClock.now
        try await client.put(key, value: [1])
        for task in tasks { try await task.value }
        return arrivals.latest - written
    }

    /// 1,000 etcd watch streams on one key, one put: the time until the last stream has the event.
    static func fanOut(_ etcd: EtcdServer, round: Int) async throws -> Duration {
        let key = "fanout/\(round)"
        let created = Arrivals()
        let arrivals = Arrivals()
        let tasks = (0..<watchers).map { _ in
            Task {
                try await etcd.watchForOneChange(key) { created.record() }
                arrivals.record()
            }
        }
        while created.count < watchers { try await Task.sleep(for: .milliseconds(50)) }
        try await Task.sleep(for: .milliseconds(500))
        let written = ContinuousClock.now
        try await etcd.put(key, value: "1")
        for task in tasks { try await task.value }
        return arrivals.latest - written
    }

    /// Acknowledged (fsync'd) writes per second from 16 concurrent clients over two seconds.
    static func writeRate(_ write: @escaping @Sendable (Int, Int) async throws -> Void) async throws -> Double {
        let duration = Duration.seconds(2)
        let end = ContinuousClock.now + duration
        let counts = try await withThrowingTaskGroup(of: Int.self) { group in
            for writer in 0..<writers {
                group.addTask {
                    var sequence = 0
                    while ContinuousClock.now < end {
                        try await write(writer, sequence)
                        sequence += 1
                    }
                    return sequence
                }
            }
            return try await group.reduce(0, +)
        }
        return Double(counts) / duration.milliseconds * 1000
    }

    /// Requests a watch on an unchanged key makes per wait period (in-process server, 1 s waits).
    static func idleRequestsPerWait() async throws -> Double {
        let server = try await RunningKVServer.start()
        defer { Task { await server.stop() } }
        let client = ConsulClient(.init(address: server.address))
        try await client.put("idle", value: [1])
        let watch = Task { await client.watch(key: "idle", policy: WatchPolicy(waitTime: .seconds(1), waitJitter: 0)).run { _ in } }
        try await Task.sleep(for: .milliseconds(500))
        let before = server.requests.value
        try await Task.sleep(for: .seconds(10))
        let requests = server.requests.value - before
        watch.cancel()
        return Double(requests) / 10
    }

    static func report(
        rounds: Int, kvFanOut: Timings, etcdFanOut: Timings, kvWrites: [Double], etcdWrites: [Double], idle: Double
    ) -> String {
        func row(_ timings: Timings, ratio: Double) -> String {
            "| \(timings.name) | \(formatMilliseconds(timings.median)) | \(formatMilliseconds(timings.minimum)) | \(formatMilliseconds(timings.maximum)) | \(String(format: "%.2f", ratio)) |"
        }
        let fanOutRatio = kvFanOut.median.milliseconds / max(etcdFanOut.median.milliseconds, 0.001)
        let writeRatio = median(kvWrites) / max(median(etcdWrites), 1)
        return """
            Fan-out: \(watchers) watchers on one key, one write, time until the last watcher has the value \
            (\(rounds) rounds, alternating).

            | server | median | min | max | ratio to etcd |
            |---|---|---|---|---|
            \(row(kvFanOut, ratio: fanOutRatio))
            \(row(etcdFanOut, ratio: 1))

            Durable writes: \(writers) concurrent clients, acknowledged writes per second (kv-server with \
            --data-dir, fsync'd before the answer; etcd's default), median of \(rounds) two-second rounds.

            | server | median writes/s | min | max | ratio to etcd |
            |---|---|---|---|---|
            | kv-server | \(Int(median(kvWrites))) | \(Int(kvWrites.min() ?? 0)) | \(Int(kvWrites.max() ?? 0)) | \(String(format: "%.2f", writeRatio)) |
            | etcd | \(Int(median(etcdWrites))) | \(Int(etcdWrites.min() ?? 0)) | \(Int(etcdWrites.max() ?? 0)) | 1.00 |

            Idle: a watch on an unchanged key with a 1 s wait made \(String(format: "%.2f", idle)) requests per \
            second over 10 s, i.e. one request per wait period (etcd holds one open stream instead).

            \(targetLine("fan-out under 250 ms and no slower than etcd", met: kvFanOut.median < .milliseconds(250) && fanOutRatio <= 1, measured: "\(formatMilliseconds(kvFanOut.median)), \(String(format: "%.2f", fanOutRatio))× etcd's time"))
            \(targetLine("durable writes at least etcd's rate", met: writeRatio >= 1, measured: String(format: "%.2f× etcd's rate", writeRatio)))
            """
    }
}

/// When watchers were woken, recorded from many tasks.
final class Arrivals: Sendable {
    private let times = Mutex<[ContinuousClock.Instant]>([])

    func record() { times.withLock { $0.append(.now) } }

    var count: Int { times.withLock { $0.count } }

    var latest: ContinuousClock.Instant { times.withLock { $0.max() ?? .now } }
}
