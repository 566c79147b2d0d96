import AsyncHTTPClient
import Foundation
import KV
import Pipeline
import TestFixtures
import Testing

/// `git2kv serve` with a git server that hangs beside a healthy repo: deadlines free the sync
/// slot, the stuck repo is named in /health, and SIGTERM does not wait for git.
@Suite("git faults (end to end)", .serialized)
struct GitFaultProcessTests {
    @Test("a git server that never answers holds only its own repo: the healthy one keeps syncing, /health names the stuck one, SIGTERM exits at once")
    func hungGitServer() async throws {
        let directory = try TemporaryDirectory(prefix: "git2kv-git-fault")
        defer { directory.remove() }
        let silent = try SilentServer()
        defer { silent.stop() }
        let healthy = try FixtureRepository(at: directory.appending("healthy.git"))
        try healthy.commit("initial", changes: [.text("apps/web/port", "80")])
        let (server, kvPort) = try Git2KVBinary.startKVServer()
        defer { server.kill() }
        let kv = ConsulClient(.init(address: "http://127.0.0.1:\(kvPort)"))
        let config = directory.appending("git2kv.yaml")
        try """
            kv: { address: "http://127.0.0.1:\(kvPort)" }
            http: { listen: "127.0.0.1:0" }
            state_dir: \(directory.appending("state"))
            ha: { enabled: false }
            limits: { concurrent_syncs: 1 }
            repos:
              - name: stuck
                url: \(silent.url(for: "config.git"))
                poll_interval: 1s
                timeouts: { connect: 2s }
                mappings: [{source: apps, prefix: stuck/apps}]
              - name: healthy
                url: \(healthy.url)
                poll_interval: 1s
                mappings: [{source: apps, prefix: config/apps}]
            """.write(toFile: config, atomically: true, encoding: .utf8)
        let serve = try BackgroundProcess(Git2KVBinary.path, ["serve", "--config", config, "--log-level", "warning"])
        defer { serve.kill() }
        let port = try #require(serve.announcedPort)

        func live() async throws -> String? {
            guard let entry = try await kv.get("config/apps/.git2kv/state").value else { return nil }
            return try SyncState.decode(entry.value).commit.id
        }
        try await eventually("the healthy repo to sync beside the stuck one") { try await live() == healthy.head() }
        try await eventually("the stuck git server to be asked") { silent.connections >= 1 }
        var worstWait = Duration.zero
        for round in 0..<3 {
            let head = try healthy.commit("round \(round)", changes: [.text("apps/web/port", "\(81 + round)")])
            let started = ContinuousClock.now
            try await eventually("commit \(round) of the healthy repo to reach KV", timeout: .seconds(20)) { try await live() == head }
            worstWait = max(worstWait, started.duration(to: .now))
        }
        // A poll (1 s) plus one sync, plus at most the stuck repo's 2 s deadline holding the only slot.
        #expect(worstWait < .seconds(10), "the healthy repo waited \(worstWait)")

        try await eventually("/health to name the stuck repo's timeout") {
            let body = try await Self.get("http://127.0.0.1:\(port)/health")
            return body.contains("connect timeout of 2s")
        }
        let ready = try await HTTPClient.shared.execute(HTTPClientRequest(url: "http://127.0.0.1:\(port)/health/ready"), timeout: .seconds(10))
        #expect(ready.status.code == 503)

        let stopping = ContinuousClock.now
        #expect(serve.stop() == 0)
        #expect(stopping.duration(to: .now) < .seconds(10))
    }

    static func get(_ url: String) async throws -> String {
        let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: url), timeout: .seconds(10))
        return String(buffer: try await response.body.collect(upTo: 1 << 20))
    }
}
