import BundleFormat
import Foundation
import KV
import KVServer
import Logging
import Pipeline
import Renderer
import StoreFixtures
import TestFixtures
import Testing

/// A store (an in-process kv-server, or a real etcd), a temp directory for outputs and state,
/// and helpers to publish bundles the way a sync does and to run a renderer over them.
struct RenderHarness {
    let directory: TemporaryDirectory
    let server: TestStore
    let kv: any KVStore & KVLocking

    static func start(_ backend: StoreBackend = .kvServer) async throws -> RenderHarness {
        let directory = try TemporaryDirectory(prefix: "git2kv-render")
        let store = try await TestStore.start(backend)
        return RenderHarness(directory: directory, server: store, kv: store.kv)
    }

    func stop() async {
        await server.stop()
        directory.remove()
    }

    func path(_ name: String) -> String { directory.appending(name) }

    static func bundle(_ files: [String: String], commit: String = "c0ffee0000000000000000000000000000000001", summary: String = "change") -> ConfigBundle {
        ConfigBundle(
            source: BundleSource(repo: "config", branch: "main", path: "apps/web"),
            commit: BundleCommit(id: commit, author: "Ada", email: "ada@example.com", time: 1_700_000_000, summary: summary),
            files: files.map { BundleFile(path: $0.key, content: Array($0.value.utf8)) })
    }

    @discardableResult
    func put(_ key: String, _ files: [String: String], commit: String = "c0ffee0000000000000000000000000000000001") async throws -> [UInt8] {
        let value = try BundleEncoder.encode(Self.bundle(files, commit: commit))
        try await kv.put(key, value: value)
        return value
    }

    func putRaw(_ key: String, _ value: [UInt8]) async throws {
        try await kv.put(key, value: value)
    }

    /// A configuration with `outputs` (YAML list items) against this server.
    func config(_ outputs: [String], wait: String = "{min: 50ms, max: 400ms}", extra: [String] = []) throws -> RendererConfig {
        let text = """
            kv: \(server.kvSetting)
            state_dir: \(path("state"))
            wait: \(wait)
            \(extra.joined(separator: "\n"))
            outputs:
            \(outputs.map { "  - " + $0 }.joined(separator: "\n"))
            """
        return try RendererConfig.parse(text, file: "render.yaml")
    }

    func write(_ name: String, _ text: String) throws {
        try Data(text.utf8).write(to: URL(fileURLWithPath: path(name)))
    }

    func read(_ name: String) -> String? {
        FileManager.default.contents(atPath: path(name)).map { String(decoding: $0, as: UTF8.self) }
    }

    /// Lines appended by a counting command (`/bin/sh -c "echo ran >> FILE"`).
    func count(_ name: String) -> Int {
        read(name)?.split(separator: "\n").count ?? 0
    }

    func counting(_ name: String) -> String {
        #"["/bin/sh", "-c", "echo ran >> \#(path(name))"]"#
    }

    func once(_ config: RendererConfig, dryRun: Bool = false) async -> RenderReport {
        await RenderOnce.run(OutputSet(config: config), store: kv, dryRun: dryRun)
    }

    /// A watcher running in the background until `stop` of the returned handle.
    func watch(_ config: RendererConfig, clock: ServiceClock = .continuous) throws -> RunningWatcher {
        var logger = Logger(label: "test.render")
        logger.logLevel = .critical
        let watcher = RenderWatcher(
            outputs: OutputSet(config: config), store: kv, state: try RenderState.load(from: config.stateDirectory), logger: logger,
            clock: clock)
        return RunningWatcher(watcher: watcher, task: Task { await watcher.run() })
    }
}

struct RunningWatcher {
    let watcher: RenderWatcher
    let task: Task<Void, Never>

    func stop() async {
        task.cancel()
        await task.value
    }

    /// Waits until `condition` holds, failing after `timeout`.
    func until(_ what: String, timeout: Duration = .seconds(30), _ condition: () async -> Bool) async throws {
        try await eventually(what, timeout: timeout, condition)
    }
}

extension RenderReport {
    func status(of destination: String) -> Status? {
        outputs.first { $0.destination == destination }?.status
    }

    func failure(of destination: String) -> RenderError? {
        if case .failed(let error) = status(of: destination) { return error }
        return nil
    }
}
