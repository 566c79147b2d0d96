import ConfigParsing
@testable import Renderer
import TestFixtures
import Testing

/// Datadog events per delivery: one for a written file, one for each new failure, none for an
/// unchanged output or a failure that repeats on every pass.
@Suite("render: delivery events")
struct DeliveryEventTests {
    func report(_ status: RenderReport.Status, commit: String) -> RenderReport {
        var report = RenderReport()
        report.outputs = [RenderReport.Output(destination: "/etc/app.conf", bundle: "config/apps/web", commit: commit, status: status)]
        return report
    }

    @Test("written, unchanged, the same failure twice, a new commit's failure")
    func onePerDelivery() async throws {
        let agent = try UDPReceiver()
        defer { agent.stop() }
        var config = MetricsConfig()
        config.dogStatsD = DogStatsDAddress("127.0.0.1:\(agent.port)")
        config.events = true
        let metrics = try RendererMetrics(config: config)
        let failure = RenderError(.check, "the check exited 1")
        metrics.record(report(.written(inPlace: false), commit: "c1"), at: 1)
        metrics.record(report(.unchanged, commit: "c1"), at: 2)
        metrics.record(report(.failed(failure), commit: "c2"), at: 3)
        metrics.record(report(.failed(failure), commit: "c2"), at: 4)
        metrics.record(report(.failed(failure), commit: "c3"), at: 5)
        // Datagrams on loopback arrive in the order sent: a marker sent last means all came.
        metrics.recordOwedCommands(7)
        try await eventually("everything up to the marker") { agent.lines.contains("git2kv.render.commands_owed:7|g") }
        let events = agent.lines.filter { $0.hasPrefix("_e{") }
        #expect(events.count == 3, "\(events)")
        #expect(events[0].contains("|d:1|k:/etc/app.conf|t:success|") && events[0].contains("commit: c1"))
        #expect(events[1].contains("|t:error|") && events[1].contains("commit: c2") && events[1].contains("reason: the check exited 1"))
        #expect(events[2].contains("commit: c3"))
    }

    @Test("without events: true, metrics only")
    func metricsOnly() async throws {
        let agent = try UDPReceiver()
        defer { agent.stop() }
        var config = MetricsConfig()
        config.dogStatsD = DogStatsDAddress("127.0.0.1:\(agent.port)")
        let metrics = try RendererMetrics(config: config)
        metrics.record(report(.written(inPlace: false), commit: "c1"), at: 1)
        metrics.recordOwedCommands(7)
        try await eventually("everything up to the marker") { agent.lines.contains("git2kv.render.commands_owed:7|g") }
        #expect(!agent.lines.contains { $0.hasPrefix("_e{") })
    }
}
