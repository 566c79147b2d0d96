import BundleFormat
import Foundation
import KV
import Logging
import Renderer
import StoreFixtures
import TestFixtures
import Testing

/// Delivery reports and canary values, from the renderer's side.
@Suite("render: delivery reports and canary values")
struct DeliveryReportTests {
    static let c1 = "c0ffee0000000000000000000000000000000001"
    static let c2 = "c0ffee0000000000000000000000000000000002"
    static let c3 = "c0ffee0000000000000000000000000000000003"

    func watcher(_ harness: RenderHarness, _ config: RendererConfig, store: any KVStore) throws -> RunningWatcher {
        var logger = Logger(label: "test.report")
        logger.logLevel = .critical
        let watcher = RenderWatcher(outputs: OutputSet(config: config), store: store, state: try RenderState.load(from: config.stateDirectory), logger: logger)
        return RunningWatcher(watcher: watcher, task: Task { await watcher.run() })
    }

    func report(_ harness: RenderHarness, node: String) async throws -> DeliveryReport? {
        let key = DeliveryReport.key(prefix: DeliveryReport.defaultPrefix, node: node)
        return try await harness.kv.get(key).value.map { try DeliveryReport.decode($0.value, key: key) }
    }

    @Test("one write per delivered change, none for a rewrite of the same bytes or a restart; a failed check is reported with its reason and commit", arguments: StoreBackend.allCases)
    func oneWritePerChange(backend: StoreBackend) async throws {
        let harness = try await RenderHarness.start(backend)
        defer { Task { await harness.stop() } }
        try await harness.put("config/apps/web", ["app.conf": "port=80\n"], commit: Self.c1)
        let check = #"["/bin/sh", "-c", "! grep -q bad \"$1\"", "check", "{{staged}}"]"#
        let config = try harness.config(
            ["{bundle: config/apps/web, file: app.conf, destination: \(harness.path("app.conf")), check: \(check)}"], extra: ["report: { node: n1 }"])
        let store = ReadCountingStore(harness.kv)
        var running = try watcher(harness, config, store: store)
        try await running.until("the first report") { (try? await report(harness, node: "n1"))?.outputs.first?.commit == Self.c1 }
        let first = try #require(try await report(harness, node: "n1"))
        #expect(first.outputs.first?.outcome == .delivered && first.outputs.first?.digest != nil && first.canary == false)

        // The same bytes written again: nothing rendered, nothing reported. Then a real change: one more write.
        try await harness.put("config/apps/web", ["app.conf": "port=80\n"], commit: Self.c1)
        try await harness.put("config/apps/web", ["app.conf": "port=bad\n"], commit: Self.c2)
        try await running.until("the failed check to be reported") { (try? await report(harness, node: "n1"))?.outputs.first?.outcome == .checkFailed }
        let failed = try #require(try await report(harness, node: "n1")?.outputs.first)
        #expect(failed.commit == Self.c1, "the old content stays in place")
        #expect(failed.failedCommit == Self.c2 && failed.reason?.contains("check") == true, "\(failed)")
        #expect(store.keysWritten == ["git2kv/reports/n1", "git2kv/reports/n1"], "\(store.keysWritten)")
        await running.stop()

        // A restart with nothing new renders, compares with the report in KV, and writes nothing.
        running = try watcher(harness, config, store: store)
        try await running.until("the first pass after the restart") { await running.watcher.passes >= 1 }
        try await running.until("the report to be compared") { store.keysRead.contains("git2kv/reports/n1") }
        #expect(await running.watcher.reportsWritten() == 0)
        await running.stop()
    }

    @Test("a report that cannot be written (store out of disk) is written again after a backoff; published data is not reported")
    func retriesAFailedWrite() async throws {
        let harness = try await RenderHarness.start()
        defer { Task { await harness.stop() } }
        try await harness.put("config/apps/web", ["app.conf": "port=80\n"], commit: Self.c1)
        try await harness.put("dns/hosts", ["hosts": "10.0.0.1 a\n"], commit: "")
        let config = try harness.config(
            ["{bundle: config/apps/web, file: app.conf, destination: \(harness.path("app.conf"))}", "{bundle: dns/hosts, file: hosts, destination: \(harness.path("hosts"))}"],
            extra: ["report: { node: n2 }"])
        let store = ReadCountingStore(harness.kv)
        store.failPuts(1)
        let running = try watcher(harness, config, store: store)
        try await running.until("the file") { harness.read("app.conf") == "port=80\n" }
        try await running.until("the report, after the failed write", timeout: .seconds(60)) {
            let written = await running.watcher.reportsWritten()
            let stored = try? await report(harness, node: "n2")
            return written == 1 && stored != nil
        }
        #expect(store.keysWritten == ["git2kv/reports/n2"], "one failed put, then one that went through")
        #expect(harness.read("hosts") == "10.0.0.1 a\n")
        #expect(try await report(harness, node: "n2")?.outputs.map(\.bundle) == ["config/apps/web"], "published files change with the catalog, not commits")
        await running.stop()
    }

    @Test("a canary renderer renders the canary value while there is one and the live value after; a fleet renderer never reads the canary key", arguments: StoreBackend.allCases)
    func canaryValues(backend: StoreBackend) async throws {
        let harness = try await RenderHarness.start(backend)
        defer { Task { await harness.stop() } }
        try await harness.put("config/apps/web", ["app.conf": "port=80\n"], commit: Self.c1)
        try await harness.put("config/apps/.git2kv/canary/web", ["app.conf": "port=81\n"], commit: Self.c2)
        var canaryConfig = try harness.config(
            ["{bundle: config/apps/web, file: app.conf, destination: \(harness.path("canary.conf"))}"], extra: ["report: { node: canary-1 }", "canary: true"])
        canaryConfig.stateDirectory = harness.path("canary-state")
        let fleetConfig = try harness.config(["{bundle: config/apps/web, file: app.conf, destination: \(harness.path("fleet.conf"))}"], extra: ["report: { node: web-1 }"])
        let fleetStore = ReadCountingStore(harness.kv)
        let canary = try watcher(harness, canaryConfig, store: harness.kv)
        let fleet = try watcher(harness, fleetConfig, store: fleetStore)
        try await canary.until("the canary value on the canary node") { harness.read("canary.conf") == "port=81\n" }
        try await fleet.until("the live value on the fleet node") { harness.read("fleet.conf") == "port=80\n" }
        try await canary.until("the canary's report") { (try? await report(harness, node: "canary-1"))?.outputs.first?.canary == true }
        #expect(try await report(harness, node: "canary-1")?.canary == true)
        #expect(try await report(harness, node: "canary-1")?.outputs.first?.commit == Self.c2)

        // The stage goes (dropped): the canary node is back on the live value.
        _ = try await harness.kv.delete("config/apps/.git2kv/canary/web")
        try await canary.until("the live value back on the canary node") { harness.read("canary.conf") == "port=80\n" }
        #expect(!fleetStore.keysRead.contains { $0.contains(".git2kv/canary/") }, "\(fleetStore.keysRead)")
        #expect(harness.read("fleet.conf") == "port=80\n")
        await canary.stop()
        await fleet.stop()
    }

    @Test("report and canary settings, and their refusals")
    func settings() throws {
        let base = "outputs: [{bundle: a/b, file: f, destination: /tmp/x}]\n"
        let defaults = try RendererConfig.parse(base, file: "r.yaml")
        #expect(defaults.report.enabled && defaults.report.prefix == "git2kv/reports" && defaults.report.node == nil && !defaults.canary)
        #expect(try RendererConfig.parse("report: false\n" + base, file: "r.yaml").report.enabled == false)
        let custom = try RendererConfig.parse("canary: true\nreport: {prefix: fleet/reports, node: web-7}\n" + base, file: "r.yaml")
        #expect(custom.canary && custom.report.prefix == "fleet/reports" && custom.report.node == "web-7")
        #expect(throws: (any Error).self) { try RendererConfig.parse("report: {node: a/b}\n" + base, file: "r.yaml") }
        #expect(throws: (any Error).self) { try RendererConfig.parse("report: {nodes: x}\n" + base, file: "r.yaml") }
        #expect(throws: (any Error).self) { try RendererConfig.parse("canary: maybe\n" + base, file: "r.yaml") }
    }
}
