import BundleFormat
import Foundation
import KV
import Renderer
import StoreFixtures
import TestFixtures
import Testing

/// What `/health` says and what the watcher does about owed commands and splay, on a manual clock.
@Suite("render: owed commands, splay and health")
struct RenderHealthTests {
    @Test("a failed command is retried with backoff until it succeeds; health is bad while it is owed")
    func owedCommandRetried() async throws {
        let harness = try await RenderHarness.start()
        defer { Task { await harness.stop() } }
        try await harness.put("config/apps/web", ["app.conf": "v1\n"])
        // Fails until the test creates the flag (the service comes back).
        let flag = harness.path("service-up")
        let command = #"["/bin/sh", "-c", "test -f \#(flag) || exit 3; echo ran >> \#(harness.path("ran"))"]"#
        let config = try harness.config(["{bundle: config/apps/web, file: app.conf, destination: \(harness.path("app.conf")), command: \(command)}"])
        let clock = ManualClock()
        let running = try harness.watch(config, clock: ServiceClock(clock))
        try await running.until("the first, failing, command") {
            await running.watcher.currentState().failedCommands[harness.path("app.conf")] == 1
        }
        let unhealthy = await running.watcher.health()
        #expect(!unhealthy.healthy)
        #expect(unhealthy.problems.contains { $0.contains("command is owed") && $0.contains("failed 1 times") }, "\(unhealthy.problems)")

        // The retry waits for its backoff (5 s at most after one failure), then fails again.
        await clock.waitForSleepers(1)
        #expect(try #require(clock.nextDeadline) <= .seconds(5))
        #expect(await running.watcher.passes == 1)
        clock.advance(by: .seconds(5))
        try await running.until("the second attempt") { await running.watcher.currentState().failedCommands[harness.path("app.conf")] == 2 }

        try Data().write(to: URL(fileURLWithPath: flag))
        await clock.waitForSleepers(1)
        #expect(try #require(clock.nextDeadline) - clock.now.offset <= .seconds(10), "the backoff doubles")
        clock.advance(by: .seconds(10))
        try await running.until("the command to succeed") { harness.count("ran") == 1 }
        try await running.until("health to clear") { await running.watcher.health().healthy }
        #expect(await running.watcher.currentState().failedCommands.isEmpty)
        #expect(clock.sleeperCount == 0, "nothing more is scheduled once the command succeeded")
        await running.stop()
    }

    @Test("health turns bad when KV has not answered for longer than the wait plus the backoff, and good when it answers")
    func kvSilence() async throws {
        let harness = try await RenderHarness.start()
        defer { Task { await harness.stop() } }
        try await harness.put("config/apps/web", ["app.conf": "v1\n"])
        let config = try harness.config(
            ["{bundle: config/apps/web, file: app.conf, destination: \(harness.path("app.conf"))}"], extra: ["watch: { wait: 5m }"])
        let clock = ManualClock()
        let running = try harness.watch(config, clock: ServiceClock(clock))
        try await running.until("the first delivery") { harness.read("app.conf") == "v1\n" }
        #expect(await running.watcher.health().healthy)
        // The blocking query waits up to 5 minutes of real time; on the watcher's clock 6 pass.
        clock.advance(by: .seconds(361))
        let silent = await running.watcher.health()
        #expect(!silent.healthy)
        #expect(silent.problems.contains { $0.contains("config/apps/web") && $0.contains("361 s ago") }, "\(silent.problems)")
        try await harness.put("config/apps/web", ["app.conf": "v2\n"], commit: "c0ffee0000000000000000000000000000000002")
        try await running.until("KV to answer again") { await running.watcher.health().healthy }
        await running.stop()
    }

    @Test("splay delays the command by up to its bound; stopping during it leaves the command owed")
    func splay() async throws {
        let harness = try await RenderHarness.start()
        defer { Task { await harness.stop() } }
        try await harness.put("config/apps/web", ["app.conf": "v1\n"])
        let config = try harness.config([
            "{bundle: config/apps/web, file: app.conf, destination: \(harness.path("app.conf")), command: \(harness.counting("ran")), splay: 10s}"
        ])
        let clock = ManualClock()
        let running = try harness.watch(config, clock: ServiceClock(clock))
        try await running.until("the delivery") { harness.read("app.conf") == "v1\n" }
        await clock.waitForSleepers(1)
        #expect(try #require(clock.nextDeadline) <= .seconds(10))
        #expect(harness.count("ran") == 0, "the command waits for its splay")
        clock.advance(by: .seconds(10))
        try await running.until("the command after its splay") { harness.count("ran") == 1 }

        try await harness.put("config/apps/web", ["app.conf": "v2\n"], commit: "c0ffee0000000000000000000000000000000002")
        // The change waits for its quiet period on the same clock.
        try await running.until("the change to be debounced") { await running.watcher.isDebouncing }
        await clock.waitForSleepers(1)
        clock.advance(by: .seconds(1))
        try await running.until("the second delivery") { harness.read("app.conf") == "v2\n" }
        await clock.waitForSleepers(1)
        let stopped = ContinuousClock.now
        await running.stop()
        #expect(ContinuousClock.now - stopped < .seconds(5), "stopping does not wait for the splay")
        #expect(harness.count("ran") == 1)
        let state = try RenderState.load(from: harness.path("state"))
        #expect(state.outputs[harness.path("app.conf")]?.commandPending == true, "the command stays owed for the next start")
    }

    @Test("splay needs a command and a bound between 0 and 1h")
    func splayConfig() throws {
        let harness = RenderHarnessConfigOnly()
        #expect(throws: (any Error).self) { try harness.config("{bundle: a/b, file: f, destination: /tmp/x, splay: 5s}") }
        #expect(throws: (any Error).self) { try harness.config("{bundle: a/b, file: f, destination: /tmp/x, command: [/bin/true], splay: 2h}") }
        #expect(try harness.config("{bundle: a/b, file: f, destination: /tmp/x, command: [/bin/true], splay: 30s}").outputs[0].splay == .seconds(30))
    }
}

/// Parses renderer configurations without a store.
struct RenderHarnessConfigOnly {
    func config(_ output: String) throws -> RendererConfig {
        try RendererConfig.parse("kv: { address: \"http://127.0.0.1:1\" }\noutputs:\n  - \(output)\n", file: "render.yaml")
    }
}
