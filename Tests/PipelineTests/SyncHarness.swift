import BundleFormat
import Foundation
import KV
import KVServer
import Pipeline
import StoreFixtures
import TestFixtures
import Testing

/// A fixture repository, a store (an in-process kv-server, or a real etcd) and a
/// configuration mapping `apps` to `config/apps`: what every sync test starts from.
struct SyncHarness {
    let directory: TemporaryDirectory
    let repository: FixtureRepository
    let server: TestStore
    let kv: any KVStore & KVLocking
    var config: DaemonConfig

    static func start(
        mappings: String = "[{source: apps, prefix: config/apps}]", backend: StoreBackend = .kvServer, server: KVServer? = nil,
        token: String? = nil
    ) async throws -> SyncHarness {
        let directory = try TemporaryDirectory(prefix: "git2kv-sync")
        let repository = try FixtureRepository(at: directory.appending("origin.git"))
        let store = try await TestStore.start(backend, kvServer: server)
        let text = DaemonConfigText.yaml(
            kvAddress: store.address, kvSetting: store.kvSetting, stateDirectory: directory.appending("state"), repoURL: repository.url,
            mappings: mappings)
        let config = try DaemonConfig.parse(text, file: "test.yaml")
        return SyncHarness(directory: directory, repository: repository, server: store, kv: store.client(token: token), config: config)
    }

    /// The same repository, store and state directory with other mappings (an edited config).
    func withMappings(_ mappings: String) throws -> SyncHarness {
        var copy = self
        copy.config = try DaemonConfig.parse(
            DaemonConfigText.yaml(
                kvAddress: server.address, kvSetting: server.kvSetting, stateDirectory: directory.appending("state"),
                repoURL: repository.url, mappings: mappings),
            file: "test.yaml")
        return copy
    }

    func sync(dryRun: Bool = false) async -> SyncRunner.Report {
        await SyncRunner(config: config).run(dryRun: dryRun)
    }

    /// Syncs and fails unless every mapping synced.
    @discardableResult
    func syncClean() async throws -> MappingResult {
        let report = await sync()
        if let failure = report.failures.first { throw failure.error }
        return try #require(report.results.first)
    }

    func bundle(_ key: String) async throws -> ConfigBundle? {
        guard let entry = try await kv.get(key).value else { return nil }
        return try BundleDecoder.decode(entry.value)
    }

    func state(prefix: String = "config/apps") async throws -> SyncState? {
        guard let entry = try await kv.get(prefix + "/.git2kv/state").value else { return nil }
        return try SyncState.decode(entry.value)
    }

    func entries(under prefix: String = "config/apps/") async throws -> [String: KVEntry] {
        Dictionary(uniqueKeysWithValues: try await kv.list(prefix: prefix).value.map { ($0.key, $0) })
    }

    func stop() async {
        await server.stop()
        directory.remove()
    }
}

