import BenchmarkSupport
import Foundation
import KVServer
import Pipeline
import TestFixtures

extension SyncBenchmark {
    /// Initial sync and one-file commits (bundle layout) of the same fixture on the in-process
    /// kv-server and on a real etcd member, in the same run.
    static func storeComparison(rounds: Int, directory: TemporaryDirectory, fixture: FixtureRepository, server: RunningKVServer) async throws -> String {
        let etcd = try EtcdCluster()
        defer { etcd.stop() }
        try await etcd.waitUntilReady()
        let stores = [
            ("kv-server", "{ address: \"\(server.address)\" }"),
            ("etcd", "{ backend: etcd, address: \"\(etcd.endpoints[0])\" }"),
        ]
        let clock = ContinuousClock()
        var results: [(name: String, initial: Timings, commit: Timings)] = []
        for (offset, (name, setting)) in stores.enumerated() {
            var initial = Timings(name: "initial sync on \(name)")
            for round in 0..<rounds {
                let config = try storeConfiguration(directory: directory, fixture: fixture, kvSetting: setting, prefix: "\(name)-initial-\(round)")
                initial.record(try await clock.measure { try await syncAll(config) })
            }
            var commit = Timings(name: "one-file commit on \(name)")
            let config = try storeConfiguration(directory: directory, fixture: fixture, kvSetting: setting, prefix: "\(name)-commits")
            try await syncAll(config)
            for round in 0..<(rounds * 3) {
                let file = (round * 37) % 100
                let revision = round + 1 + 2_000 * (offset + 1)
                try fixture.commit(
                    "change on \(name) \(round)",
                    changes: [.text(StandardFixtures.path(directory: round % 100, file: file), StandardFixtures.content(directory: round % 100, file: file, revision: revision))])
                let (sync, head) = try await prepared(config)
                commit.record(try await clock.measure { _ = try await sync.run(head: head, dryRun: false) })
            }
            results.append((name, initial, commit))
        }
        func cell(_ timings: Timings) -> String {
            "\(formatMilliseconds(timings.median)) (min \(formatMilliseconds(timings.minimum)), max \(formatMilliseconds(timings.maximum)))"
        }
        let kvServer = results[0]
        let etcdResult = results[1]
        return """
            The same sync on both stores (bundle layout; etcd: one member of Debian's etcd-server, data on tmpfs), \
            medians of \(rounds) initial syncs and \(rounds * 3) one-file commits each.

            | store | initial sync | one-file commit, fetch done → transaction acknowledged |
            |---|---|---|
            | kv-server (in process, in memory) | \(cell(kvServer.initial)) | \(cell(kvServer.commit)) |
            | etcd | \(cell(etcdResult.initial)) | \(cell(etcdResult.commit)) |
            | etcd / kv-server | \(String(format: "%.2f×", etcdResult.initial.median.milliseconds / max(kvServer.initial.median.milliseconds, 0.001))) | \(String(format: "%.2f×", etcdResult.commit.median.milliseconds / max(kvServer.commit.median.milliseconds, 0.001))) |
            """
    }

    static func storeConfiguration(directory: TemporaryDirectory, fixture: FixtureRepository, kvSetting: String, prefix: String) throws -> DaemonConfig {
        try DaemonConfig.parse(
            DaemonConfigText.yaml(
                kvAddress: "", kvSetting: kvSetting, stateDirectory: directory.appending("state-\(prefix)"), repoName: "bench", repoURL: fixture.url,
                mappings: "[{source: apps, prefix: bench/\(prefix)}]"),
            file: "bench.yaml")
    }
}
