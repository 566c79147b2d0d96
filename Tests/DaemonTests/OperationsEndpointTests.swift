import Daemon
import Foundation
import TestFixtures
import Testing

/// /health, /health/ready, /metrics and /status of a running daemon.
@Suite struct OperationsEndpointTests {
    @Test func healthMetricsAndStatus() async throws {
        let harness = try await DaemonHarness.start()
        defer { Task { await harness.stop() } }
        let head = try harness.repository.head()
        try await harness.waitForLive(head)

        let health = try await harness.request(.GET, "/health")
        #expect(health.status == 200)
        let report = try JSONSerialization.jsonObject(with: Data(health.body.utf8)) as? [String: Any]
        #expect(report?["live"] as? Bool == true)
        #expect(report?["kv_reachable"] as? Bool == true)
        #expect(report?["ready"] as? Bool == true, "\(health.body)")
        #expect(try await harness.request(.GET, "/health/ready").status == 200)

        let metrics = try await harness.request(.GET, "/metrics").body
        for name in [
            "git2kv_sync_duration_seconds_bucket", "git2kv_last_success_timestamp_seconds", "git2kv_commits_behind_count",
            "git2kv_bundles_written_total", "git2kv_bytes_written_total", "git2kv_leader", "git2kv_seconds_since_last_poll",
            "git2kv_ready 1", "git2kv_syncs_total",
        ] {
            #expect(metrics.contains(name), "\(name) missing from /metrics")
        }
        #expect(metrics.contains(#"git2kv_leader{repo="config"} 1"#))
        #expect(metrics.contains(#"git2kv_commits_behind_count{repo="config",reference="main",prefix="config/apps"} 0"#))

        let status = try await harness.request(.GET, "/status")
        #expect(status.status == 200)
        let mappings = try JSONSerialization.jsonObject(with: Data(status.body.utf8)) as? [[String: Any]]
        #expect(mappings?.first?["prefix"] as? String == "config/apps")
        #expect(mappings?.first?["live_commit"] as? String == head)

        // KV gone: still alive, no longer ready, and the KV error is counted.
        await harness.server.stop()
        let down = try await harness.request(.GET, "/health/ready")
        #expect(down.status == 503)
        #expect(down.body.contains(#""kv_reachable" : false"#), "\(down.body)")
        #expect(try await harness.request(.GET, "/health").status == 200)
        #expect(try await harness.request(.GET, "/metrics").body.contains("git2kv_kv_errors_total"))
    }

    @Test("with metrics.dogstatsd the same metrics go to the agent, tagged")
    func dogStatsD() async throws {
        let agent = try UDPReceiver()
        defer { agent.stop() }
        let harness = try await DaemonHarness.start(
            topLevel: ["ha: { enabled: false }", #"metrics: { dogstatsd: "127.0.0.1:\#(agent.port)", tags: [env:test] }"#])
        defer { Task { await harness.stop() } }
        try await harness.waitForLive(try harness.repository.head())
        let labels = "repo:config,reference:main,prefix:config/apps"
        try await eventually("the sync's metrics") {
            agent.lines.contains("git2kv.syncs:1|c|#env:test,\(labels),outcome:success")
                && agent.lines.contains { $0.hasPrefix("git2kv.sync_duration:") && $0.hasSuffix("|ms|#env:test,\(labels)") }
                && agent.lines.contains("git2kv.commits_behind:0|g|#env:test,\(labels)")
        }
        #expect(try await harness.request(.GET, "/metrics").body.contains(#"git2kv_syncs_total{repo="config",reference="main",prefix="config/apps",outcome="success"} 1"#))
    }
}
