import ConfigParsing
import MetricsExport
import TestFixtures
import Testing

/// The same metric reaches Prometheus and a real UDP socket standing in for the DogStatsD agent.
@Suite("metrics to Prometheus and DogStatsD")
struct ExportedMetricsTests {
    static let syncs = MetricName("syncs", "total", "Syncs by outcome.")

    func exported(_ receiver: UDPReceiver, tags: [String] = ["env:test"]) throws -> ExportedMetrics {
        var config = MetricsConfig()
        config.dogStatsD = DogStatsDAddress("127.0.0.1:\(receiver.port)")
        config.tags = tags
        return try ExportedMetrics(namespace: "git2kv_render", config: config)
    }

    @Test("counters, gauges and durations are sent with the configured tags and the labels as tags")
    func sendsEveryKind() async throws {
        let receiver = try UDPReceiver()
        defer { receiver.stop() }
        let metrics = try exported(receiver)
        metrics.increment(Self.syncs, labels: [("outcome", "success")], by: 3)
        metrics.set(MetricName("ready", "", "1 when ready."), to: 1)
        metrics.record(MetricName("sync_duration", "seconds", "Time."), buckets: [.seconds(1)], .milliseconds(250))
        try await eventually("three datagrams") { receiver.lines.count == 3 }
        #expect(Set(receiver.lines) == [
            "git2kv.render.syncs:3|c|#env:test,outcome:success",
            "git2kv.render.ready:1|g|#env:test",
            "git2kv.render.sync_duration:250|ms|#env:test",
        ])
        #expect(metrics.exposition().contains(#"git2kv_render_syncs_total{outcome="success"} 3"#))
    }

    @Test("an event goes out only when DogStatsD is configured")
    func events() async throws {
        let receiver = try UDPReceiver()
        defer { receiver.stop() }
        ExportedMetrics(namespace: "git2kv").send(DogStatsDEvent(title: "t", text: "x", alertType: .info))
        let metrics = try exported(receiver, tags: [])
        metrics.send(DogStatsDEvent(title: "t", text: "x", alertType: .info))
        try await eventually("the event") { receiver.lines == ["_e{1,1}:t|x|t:info|s:git2kv"] }
    }

    @Test("a datagram the socket refuses is dropped and counted; later ones still go out")
    func refusedDatagram() async throws {
        let receiver = try UDPReceiver()
        defer { receiver.stop() }
        let sender = try DogStatsDSender(host: "127.0.0.1", port: receiver.port)
        sender.send("git2kv.big:1|c|#" + String(repeating: "x", count: 70_000))
        #expect(sender.dropped == 1)
        sender.send("git2kv.after:1|c")
        try await eventually("the next datagram") { receiver.lines == ["git2kv.after:1|c"] }
        #expect(sender.dropped == 1)
    }

    @Test("a host name that does not resolve is a clear error naming it")
    func unresolvable() {
        #expect {
            try DogStatsDSender(host: "no-such-agent.invalid", port: 8125)
        } throws: { error in
            "\(error)".contains("cannot resolve the DogStatsD agent no-such-agent.invalid:8125")
        }
    }
}
