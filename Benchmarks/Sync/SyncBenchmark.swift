import BenchmarkSupport
import Foundation
import GitKit
import KV
import KVServer
import Pipeline
import TestFixtures
import ConfigParsing

/// Issue 4's benchmarks on a 10,000-file repository in 100 directories (file:// remote):
/// initial sync (next to `git clone --mirror` of the same repository, the git CLI as the peer),
/// one-file commit from fetch done to transaction acknowledged, KV requests, bytes and keys
/// changed per commit in the bundle layout against the files layout, and peak RSS of the
/// `git2kv sync` process.
enum SyncBenchmark {
    static func run(rounds: Int) async throws -> String {
        let directory = try TemporaryDirectory(prefix: "git2kv-bench-sync")
        defer { directory.remove() }
        let fixture = try FixtureRepository(at: directory.appending("origin.git"))
        try fixture.commit("10,000 files", changes: StandardFixtures.manyFiles(directories: 100, filesPerDirectory: 100))
        let server = try await RunningKVServer.start(KVServer(port: 0, logLevel: .critical))
        defer { Task { await server.stop() } }
        let clock = ContinuousClock()

        var initial = Timings(name: "initial sync")
        var clone = Timings(name: "git clone --mirror")
        for round in 0..<rounds {
            let config = try configuration(directory: directory, fixture: fixture, server: server, round: "initial-\(round)", layout: "bundle")
            initial.record(try await clock.measure { try await syncAll(config) })
            let target = directory.appending("clone-\(round).git")
            clone.record(try clock.measure { try GitCLI.run(["clone", "--quiet", "--mirror", fixture.url, target]) })
        }

        var bundleCommit = Timings(name: "bundle layout")
        var filesCommit = Timings(name: "files layout")
        var costs: [String: CommitCost] = [:]
        for layout in ["bundle", "files"] {
            let config = try configuration(directory: directory, fixture: fixture, server: server, round: "commits-\(layout)", layout: layout)
            try await syncAll(config)
            var cost = CommitCost()
            for round in 0..<(rounds * 3) {
                let file = (round * 37) % 100
                // Revisions differ per layout, so the second layout's commits are real changes too.
                let revision = round + 1 + (layout == "files" ? 1_000 : 0)
                try fixture.commit(
                    "change \(layout) \(round)",
                    changes: [.text(StandardFixtures.path(directory: round % 100, file: file), StandardFixtures.content(directory: round % 100, file: file, revision: revision))])
                let (sync, head) = try await prepared(config)
                let keysBefore = try await modifyIndexes(server, prefix: "bench/commits-\(layout)/")
                let requestsBefore = server.requests.value
                let started = clock.now
                let result = try await sync.run(head: head, dryRun: false)
                let elapsed = clock.now - started
                let requests = server.requests.value - requestsBefore
                if layout == "bundle" { bundleCommit.record(elapsed) } else { filesCommit.record(elapsed) }
                cost.requests.append(Double(requests))
                cost.bytes.append(Double(result.bytesWritten))
                cost.transactions.append(Double(result.transactions))
                let keysAfter = try await modifyIndexes(server, prefix: "bench/commits-\(layout)/")
                cost.keysChanged.append(Double(keysAfter.filter { keysBefore[$0.key] != $0.value }.count))
                cost.keysUnderPrefix = keysAfter.count
            }
            costs[layout] = cost
        }

        let rss = try peakRSSOfSyncProcess(directory: directory, fixture: fixture, server: server)
        let stores = try await storeComparison(rounds: rounds, directory: directory, fixture: fixture, server: server)
        return report(rounds: rounds, initial: initial, clone: clone, bundleCommit: bundleCommit, filesCommit: filesCommit, costs: costs, rss: rss)
            + "\n\n" + stores
    }

    struct CommitCost {
        var requests: [Double] = []
        var bytes: [Double] = []
        var transactions: [Double] = []
        var keysChanged: [Double] = []
        var keysUnderPrefix = 0
    }

    static func configuration(directory: TemporaryDirectory, fixture: FixtureRepository, server: RunningKVServer, round: String, layout: String) throws -> DaemonConfig {
        try DaemonConfig.parse(
            DaemonConfigText.yaml(
                kvAddress: server.address, stateDirectory: directory.appending("state-\(round)"), repoName: "bench", repoURL: fixture.url,
                mappings: "[{source: apps, prefix: bench/\(round), layout: \(layout)}]"),
            file: "bench.yaml")
    }

    static func syncAll(_ config: DaemonConfig) async throws {
        let report = await SyncRunner(config: config).run(dryRun: false)
        if let failure = report.failures.first { throw BenchmarkFailure("sync failed: \(failure.what): \(failure.error)") }
    }

    /// Fetches (not timed) and returns the mapping's sync and the new head.
    static func prepared(_ config: DaemonConfig) async throws -> (MappingSync, ObjectID) {
        let runner = SyncRunner(config: config)
        let repo = config.repos[0]
        let repository = try await runner.withMirror(of: repo) { repository throws(SyncError) in
            try await runner.fetch(repo, into: repository)
            return repository
        }
        let head = try await repository.resolveBranch("main")
        let target = MappingTarget(repo: repo.name, reference: "main", mapping: repo.mappings[0])
        let kv = try KVConnection.openForSync(config.kv, token: nil)
        return (MappingSync(target: target, kv: kv, address: config.kv.address, repository: repository, records: runner.records), head)
    }

    static func modifyIndexes(_ server: RunningKVServer, prefix: String) async throws -> [String: UInt64] {
        let client = ConsulClient(.init(address: server.address))
        return Dictionary(uniqueKeysWithValues: try await client.list(prefix: prefix).value.map { ($0.key, $0.modifyIndex) })
    }

    /// Runs the `git2kv sync` binary for an initial sync of the fixture and reads its peak RSS (VmHWM).
    static func peakRSSOfSyncProcess(directory: TemporaryDirectory, fixture: FixtureRepository, server: RunningKVServer) throws -> Int {
        let file = directory.appending("rss.yaml")
        try DaemonConfigText.yaml(
            kvAddress: server.address, stateDirectory: directory.appending("state-rss"), repoName: "bench", repoURL: fixture.url,
            mappings: "[{source: apps, prefix: bench/rss}]"
        ).write(toFile: file, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Git2KVBinary.path)
        process.arguments = ["sync", "--config", file]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        var peak = 0
        while process.isRunning {
            if let status = try? String(contentsOfFile: "/proc/\(process.processIdentifier)/status", encoding: .utf8),
                let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
                let kilobytes = Int(line.split(separator: " ").dropFirst().first ?? "")
            {
                peak = max(peak, kilobytes)
            }
            usleep(5_000)
        }
        guard process.terminationStatus == 0 else { throw BenchmarkFailure("git2kv sync exited with \(process.terminationStatus)") }
        return peak
    }

    static func report(
        rounds: Int, initial: Timings, clone: Timings, bundleCommit: Timings, filesCommit: Timings, costs: [String: CommitCost], rss: Int
    ) -> String {
        let ratio = initial.median.milliseconds / max(clone.median.milliseconds, 0.001)
        func row(_ name: String, _ timings: Timings) -> String {
            "| \(name) | \(formatMilliseconds(timings.median)) | \(formatMilliseconds(timings.minimum)) | \(formatMilliseconds(timings.maximum)) |"
        }
        func costRow(_ layout: String) -> String {
            guard let cost = costs[layout] else { return "" }
            return "| \(layout) | \(Int(median(cost.requests))) | \(Int(median(cost.transactions))) | \(Int(median(cost.bytes))) | \(Int(median(cost.keysChanged))) of \(cost.keysUnderPrefix) |"
        }
        return """
            Sync on a 10,000-file repository in 100 directories (file:// remote, in-process kv-server), \
            medians of \(rounds) initial syncs and \(rounds * 3) one-file commits per layout.

            | initial sync (fetch + build + write) | median | min | max |
            |---|---|---|---|
            \(row("git2kv sync, bundle layout", initial))
            \(row("git clone --mirror (peer)", clone))

            Initial sync / git clone: \(String(format: "%.2f", ratio))×.

            | one-file commit, fetch done → transaction acknowledged | median | min | max |
            |---|---|---|---|
            \(row("bundle layout", bundleCommit))
            \(row("files layout (git2consul's)", filesCommit))

            | per one-file commit | KV requests | transactions | bytes written | keys changed |
            |---|---|---|---|---|
            \(costRow("bundle"))
            \(costRow("files"))

            Keys changed is what wakes watchers: in the bundle layout, the nodes watching that one bundle \
            (and the state key); in the files layout, every consumer watching the prefix recursively \
            (consul-template's `tree`, git2consul's usual consumers) wakes for any change under it.

            Peak RSS of `git2kv sync` (initial sync of the repository, bundle layout): \(rss / 1024) MiB.

            \(targetLine("initial sync under 5 s", met: initial.median < .seconds(5), measured: formatMilliseconds(initial.median)))
            \(targetLine("one-file commit under 100 ms", met: bundleCommit.median < .milliseconds(100) && filesCommit.median < .milliseconds(100), measured: "bundle \(formatMilliseconds(bundleCommit.median)), files \(formatMilliseconds(filesCommit.median))"))
            \(targetLine("peak RSS under 200 MB", met: rss * 1024 < 200_000_000, measured: "\(rss / 1024) MiB"))
            """
    }
}
