import BundleFormat
import Foundation
import KV
import Renderer
import StoreFixtures
import TestFixtures
import Testing

/// The long-running renderer against a real kv-server and a real etcd: change, debounce, uniqueness.
@Suite("render: watch, debounce, uniqueness")
struct RenderWatchTests {
    @Test("a change in KV reaches the file", arguments: StoreBackend.allCases)
    func renderOnChange(backend: StoreBackend) async throws {
        let harness = try await RenderHarness.start(backend)
        defer { Task { await harness.stop() } }
        try await harness.put("config/apps/web", ["app.conf": "port=80\n"])
        let config = try harness.config(["{bundle: config/apps/web, file: app.conf, destination: \(harness.path("app.conf"))}"])
        let running = try harness.watch(config)
        try await running.until("the first delivery") { harness.read("app.conf") == "port=80\n" }
        try await harness.put("config/apps/web", ["app.conf": "port=81\n"], commit: "c0ffee0000000000000000000000000000000002")
        // The file is renamed into place before the delivery is recorded: wait for both.
        try await running.until("the change") {
            let recorded = await running.watcher.currentState().outputs[harness.path("app.conf")]?.commit
            return harness.read("app.conf") == "port=81\n" && recorded == "c0ffee0000000000000000000000000000000002"
        }
        await running.stop()
    }

    @Test("a burst of changes renders once, after the quiet period, and runs the command once", arguments: StoreBackend.allCases)
    func burstIsDebounced(backend: StoreBackend) async throws {
        let harness = try await RenderHarness.start(backend)
        defer { Task { await harness.stop() } }
        try await harness.put("config/apps/web", ["app.conf": "v0\n"])
        let config = try harness.config(
            ["{bundle: config/apps/web, file: app.conf, destination: \(harness.path("app.conf")), command: \(harness.counting("ran"))}"],
            wait: "{min: 3s, max: 60s}")
        let values = try (1...10).map { try BundleEncoder.encode(RenderHarness.bundle(["app.conf": "v\($0)\n"])) }
        // The debounce runs on a manual clock: the burst ends when the test says so, not when a
        // loaded machine happens to leave a gap between two puts.
        let clock = ManualClock()
        let running = try harness.watch(config, clock: ServiceClock(clock))
        try await running.until("the start-up delivery") { await running.watcher.passes == 1 && harness.count("ran") == 1 }
        for value in values { try await harness.putRaw("config/apps/web", value) }
        let last = try #require(try await harness.kv.get("config/apps/web").value?.modifyIndex)
        try await running.until("the watcher to receive the whole burst") { await running.watcher.receivedIndex(of: "config/apps/web") == last }
        await clock.waitForSleepers(1)
        clock.advance(by: .milliseconds(2900))
        #expect(await running.watcher.passes == 1, "the quiet period has not passed")
        clock.advance(by: .milliseconds(100))
        try await running.until("the burst's delivery") {
            await running.watcher.passes == 2 && harness.read("app.conf") == "v10\n" && harness.count("ran") == 2
        }
        #expect(await !running.watcher.isDebouncing, "nothing else is waiting to render")
        #expect(clock.sleeperCount == 0)
        await running.stop()
    }

    @Test("the first render at start-up is not delayed by the wait", arguments: StoreBackend.allCases)
    func firstRenderIsImmediate(backend: StoreBackend) async throws {
        let harness = try await RenderHarness.start(backend)
        defer { Task { await harness.stop() } }
        try await harness.put("config/apps/web", ["app.conf": "v0\n"])
        let config = try harness.config(
            ["{bundle: config/apps/web, file: app.conf, destination: \(harness.path("app.conf"))}"], wait: "{min: 30s, max: 60s}")
        let running = try harness.watch(config)
        try await running.until("the start-up delivery", timeout: .seconds(10)) { harness.read("app.conf") == "v0\n" }
        await running.stop()
    }

    @Test("the same value written again, or another commit with the same bytes, changes nothing", arguments: StoreBackend.allCases)
    func identicalValueChangesNothing(backend: StoreBackend) async throws {
        let harness = try await RenderHarness.start(backend)
        defer { Task { await harness.stop() } }
        let value = try await harness.put("config/apps/web", ["app.conf": "same\n"])
        let destination = harness.path("app.conf")
        let config = try harness.config(["{bundle: config/apps/web, file: app.conf, destination: \(destination), command: \(harness.counting("ran"))}"])
        let running = try harness.watch(config)
        try await running.until("the start-up delivery") { harness.count("ran") == 1 }
        let inode = try FileManager.default.attributesOfItem(atPath: destination)[.systemFileNumber] as? UInt64
        try await harness.putRaw("config/apps/web", value)
        try await running.until("a pass over the rewritten value") { await running.watcher.passes == 2 }
        try await harness.put("config/apps/web", ["app.conf": "same\n"], commit: "c0ffee0000000000000000000000000000000009")
        try await running.until("a pass over the new commit") { await running.watcher.passes == 3 }
        #expect(harness.count("ran") == 1)
        #expect(try FileManager.default.attributesOfItem(atPath: destination)[.systemFileNumber] as? UInt64 == inode)
        #expect(await running.watcher.lastReport?.status(of: destination) == .unchanged)
        await running.stop()
    }

    @Test("a restart with identical KV neither writes nor runs the command", arguments: StoreBackend.allCases)
    func restartChangesNothing(backend: StoreBackend) async throws {
        let harness = try await RenderHarness.start(backend)
        defer { Task { await harness.stop() } }
        try await harness.put("config/apps/web", ["app.conf": "v1\n"])
        let destination = harness.path("app.conf")
        let config = try harness.config(["{bundle: config/apps/web, file: app.conf, destination: \(destination), command: \(harness.counting("ran"))}"])
        let first = try harness.watch(config)
        try await first.until("the first delivery") { harness.count("ran") == 1 }
        await first.stop()
        let inode = try FileManager.default.attributesOfItem(atPath: destination)[.systemFileNumber] as? UInt64

        let second = try harness.watch(config)
        try await second.until("the restarted renderer's first pass") { await second.watcher.passes == 1 }
        #expect(await second.watcher.lastReport?.status(of: destination) == .unchanged)
        #expect(harness.count("ran") == 1)
        #expect(try FileManager.default.attributesOfItem(atPath: destination)[.systemFileNumber] as? UInt64 == inode)
        await second.stop()
    }

    @Test("outputs sharing a command run it once per batch", arguments: StoreBackend.allCases)
    func sharedCommandRunsOnce(backend: StoreBackend) async throws {
        let harness = try await RenderHarness.start(backend)
        defer { Task { await harness.stop() } }
        try await harness.put("config/apps/web", ["a.conf": "a1\n", "b.conf": "b1\n"])
        try await harness.put("config/apps/api", ["c.conf": "c1\n"])
        let command = harness.counting("ran")
        let config = try harness.config([
            "{bundle: config/apps/web, file: a.conf, destination: \(harness.path("a.conf")), command: \(command)}",
            "{bundle: config/apps/web, file: b.conf, destination: \(harness.path("b.conf")), command: \(command)}",
            "{bundle: config/apps/api, file: c.conf, destination: \(harness.path("c.conf")), command: \(command)}",
        ])
        let running = try harness.watch(config)
        try await running.until("the start-up delivery") { harness.read("c.conf") == "c1\n" && harness.count("ran") == 1 }
        try await harness.put("config/apps/web", ["a.conf": "a2\n", "b.conf": "b2\n"])
        try await running.until("the change") { harness.read("b.conf") == "b2\n" && harness.count("ran") == 2 }
        try await Task.sleep(for: .milliseconds(500))
        #expect(harness.count("ran") == 2)
        await running.stop()
    }

    @Test("KV going away keeps the delivered files and the renderer running", arguments: StoreBackend.allCases)
    func kvOutageKeepsFiles(backend: StoreBackend) async throws {
        let harness = try await RenderHarness.start(backend)
        defer { Task { await harness.stop() } }
        try await harness.put("config/apps/web", ["app.conf": "v1\n"])
        let config = try harness.config(["{bundle: config/apps/web, file: app.conf, destination: \(harness.path("app.conf"))}"])
        let running = try harness.watch(config)
        try await running.until("the first delivery") { harness.read("app.conf") == "v1\n" }
        await harness.server.stop()
        try await Task.sleep(for: .milliseconds(600))
        #expect(harness.read("app.conf") == "v1\n")
        #expect(!running.task.isCancelled)
        await running.stop()
    }
}
