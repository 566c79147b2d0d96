import BenchmarkSupport
import BundleFormat
import Foundation
import KV
import TestFixtures

/// `git2kv render` processes, each with its own output file and state directory, all watching
/// one bundle of one store: a fleet of nodes squeezed onto this machine.
final class ProcessFleet: @unchecked Sendable {
    let store: any KVStore
    let key: String
    let destinations: [String]
    private let processes: [BackgroundProcess]
    /// How many blocking queries (kv-server) or watches (etcd) the store holds now.
    private let parkedWatches: @Sendable () async throws -> Int

    /// One round's measurements.
    struct Round {
        var duration: Duration
        /// CPU time (user + system) of every renderer together during the round.
        var rendererCPU: Duration
    }

    private init(store: any KVStore, key: String, destinations: [String], processes: [BackgroundProcess], parkedWatches: @escaping @Sendable () async throws -> Int) {
        self.store = store
        self.key = key
        self.destinations = destinations
        self.processes = processes
        self.parkedWatches = parkedWatches
    }

    /// How each node is set up beyond its one output: top-level settings, and settings of the output.
    struct NodeSettings: Sendable {
        var topLevel: @Sendable (Int) -> [String] = { _ in ["report: false"] }
        var output = ""

        /// The fan-out rounds time deliveries alone: no delivery reports.
        static let deliveryOnly = NodeSettings()
    }

    static func start(
        count: Int, store: any KVStore, kvSetting: String, directory: String, key: String, settings: NodeSettings = .deliveryOnly,
        parkedWatches: @escaping @Sendable () async throws -> Int
    ) async throws -> ProcessFleet {
        try await store.put(key, value: try value(round: 0))
        var processes: [BackgroundProcess] = []
        var destinations: [String] = []
        for index in 0..<count {
            let node = directory + "/node-\(index)"
            try FileManager.default.createDirectory(atPath: node, withIntermediateDirectories: true)
            let destination = node + "/app.conf"
            try """
                kv: \(kvSetting)
                state_dir: \(node)/state
                wait: { min: 0s, max: 0s }
                \(settings.topLevel(index).joined(separator: "\n"))
                outputs:
                  - { bundle: \(key), file: app.conf, destination: \(destination)\(settings.output) }

                """.write(toFile: node + "/render.yaml", atomically: true, encoding: .utf8)
            processes.append(try BackgroundProcess(Git2KVBinary.path, ["render", "--config", node + "/render.yaml", "--log-level", "error"]))
            destinations.append(destination)
        }
        let fleet = ProcessFleet(store: store, key: key, destinations: destinations, processes: processes, parkedWatches: parkedWatches)
        let deadline = ContinuousClock.now + .seconds(120)
        while !destinations.allSatisfy({ FileManager.default.fileExists(atPath: $0) }) {
            guard ContinuousClock.now < deadline else { throw BenchmarkFailure("the renderers did not deliver round 0") }
            try await Task.sleep(for: .milliseconds(20))
        }
        try fleet.verify(round: 0)
        return fleet
    }

    static func content(round: Int) -> String {
        (0..<60).map { "upstream backend-\($0) { server 10.0.\(round % 250).\($0):8080; } # round \(round)\n" }.joined()
    }

    /// Round `round`'s commit id (40 hex digits, as git's).
    static func commit(round: Int) -> String { String(format: "%040x", round) }

    static func value(round: Int) throws -> [UInt8] {
        let bundle = ConfigBundle(
            source: BundleSource(repo: "config", branch: "main", path: "apps/web"),
            commit: BundleCommit(id: commit(round: round), author: "bench", email: "", time: 0, summary: "round \(round)"),
            files: [BundleFile(path: "app.conf", content: Array(content(round: round).utf8))])
        return try BundleEncoder.encode(bundle)
    }

    /// Waits until every renderer's watch is parked on the store (confirmed by the store's own
    /// count, not by a sleep), writes round `round`, and times until every renderer has renamed
    /// its new file into place (`FileReplacement`).
    func deliver(round: Int, otherWatches: Int) async throws -> Round {
        try await waitUntilParked(round: round, otherWatches: otherWatches)
        let replacement = FileReplacement(destinations)
        let cpuBefore = processes.map { Self.cpuTicks($0.processIdentifier) }
        let value = try Self.value(round: round)
        let started = ContinuousClock.now
        try await store.put(key, value: value)
        try await replacement.waitUntilAllReplaced(within: .seconds(120), what: "renderers did not deliver round \(round)")
        let duration = started.duration(to: .now)
        let ticks = zip(processes, cpuBefore).reduce(0) { $0 + Self.cpuTicks($1.0.processIdentifier) - $1.1 }
        return Round(duration: duration, rendererCPU: .milliseconds(ticks * 1_000 / Self.ticksPerSecond))
    }

    /// Until the store itself counts every renderer's watch parked (not a sleep).
    func waitUntilParked(round: Int, otherWatches: Int) async throws {
        let deadline = ContinuousClock.now + .seconds(120)
        while try await parkedWatches() < destinations.count + otherWatches {
            guard ContinuousClock.now < deadline else { throw BenchmarkFailure("the renderers' watches did not all park before round \(round)") }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    func verify(round: Int) throws {
        let expected = Data(Self.content(round: round).utf8)
        for destination in destinations where FileManager.default.contents(atPath: destination) != expected {
            throw BenchmarkFailure("\(destination) does not hold round \(round)")
        }
    }

    /// Private memory of one renderer (its own pages; code shared with the others not counted).
    var privateKilobytesPerRenderer: Int {
        let samples = processes.prefix(10).compactMap { process -> Int? in
            guard let rollup = try? String(contentsOfFile: "/proc/\(process.processIdentifier)/smaps_rollup", encoding: .utf8) else { return nil }
            return rollup.split(separator: "\n").filter { $0.hasPrefix("Private_") }.reduce(0) {
                $0 + (Int($1.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "0") ?? 0)
            }
        }
        return samples.isEmpty ? 0 : samples.reduce(0, +) / samples.count
    }

    func stop() {
        for process in processes { process.kill(SIGTERM) }
    }

    static let ticksPerSecond = Int(sysconf(Int32(_SC_CLK_TCK)))

    /// User plus system CPU time of a process, in clock ticks (/proc/PID/stat fields 14 and 15).
    static func cpuTicks(_ pid: Int32) -> Int {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), let close = stat.lastIndex(of: ")") else { return 0 }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        // After the command name: state is field 3, so utime (14) and stime (15) are at 11 and 12.
        guard fields.count > 12 else { return 0 }
        return (Int(fields[11]) ?? 0) + (Int(fields[12]) ?? 0)
    }

    /// How many renderer processes fit, measured: ten probe renderers start, their private
    /// memory is read, they stop; then `affordable` below. Returns the count and the probe's KiB.
    static func affordable(
        _ requested: Int, store: any KVStore, kvSetting: String, directory: String, fleets: Int, parkedWatches: @escaping @Sendable () async throws -> Int
    ) async throws -> (count: Int, privateKilobytes: Int) {
        let probe = try await start(count: 10, store: store, kvSetting: kvSetting, directory: directory, key: "bench/probe/web", parkedWatches: parkedWatches)
        let perRenderer = probe.privateKilobytesPerRenderer
        probe.stop()
        return (affordable(requested, privateKilobytes: perRenderer, fleets: fleets), perRenderer)
    }

    /// How many renderer processes fit: `requested`, or fewer when half the available memory
    /// cannot hold that many at `privateKilobytes` each (both fleets together: `fleets`).
    static func affordable(_ requested: Int, privateKilobytes: Int, fleets: Int) -> Int {
        guard let meminfo = try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8),
            let line = meminfo.split(separator: "\n").first(where: { $0.hasPrefix("MemAvailable:") }),
            let available = Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? ""), privateKilobytes > 0
        else { return requested }
        return max(10, min(requested, available / 2 / privateKilobytes / fleets))
    }
}
