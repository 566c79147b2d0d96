public import Prometheus

/// The renderer's Prometheus metrics (served at /metrics with `--listen`).
public final class RendererMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry

    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
    }

    private func name(_ metric: String, _ unit: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "git2kv_render", metricName: metric, unitName: unit, helpText: help)
    }

    public func exposition() -> String { registry.emitToString() }

    func record(_ report: RenderReport, at now: Double) {
        for output in report.outputs {
            let outcome = switch output.status {
            case .unchanged: "unchanged"
            case .written(let inPlace): inPlace ? "written_in_place" : "written"
            case .wouldChange: "would_change"
            case .failed(let error): "failed_\(error.kind.rawValue)"
            }
            registry.makeCounter(
                descriptor: name("outputs", "total", "Outputs rendered, by destination and outcome."),
                labels: [("destination", output.destination), ("outcome", outcome)]
            ).increment()
            if case .failed = output.status {} else {
                registry.makeGauge(
                    descriptor: name("output_last_success", "timestamp_seconds", "When an output was last rendered without error."),
                    labels: [("destination", output.destination)]
                ).set(to: now)
            }
        }
        for command in report.commands {
            registry.makeCounter(
                descriptor: name("commands", "total", "Commands run after deliveries, by outcome."),
                labels: [("outcome", command.error == nil ? "success" : "failure")]
            ).increment()
        }
        registry.makeGauge(descriptor: name("last_pass", "timestamp_seconds", "When the last render pass ended."), labels: []).set(to: now)
    }

    func recordWatchError(bundle: String) {
        registry.makeCounter(descriptor: name("watch_errors", "total", "Failed blocking queries, by bundle."), labels: [("bundle", bundle)])
            .increment()
    }

    func recordKVContact(at now: Double) {
        registry.makeGauge(
            descriptor: name("kv_last_contact", "timestamp_seconds", "When a query to KV last came back (a value or a blocking wait that ran out)."),
            labels: []
        ).set(to: now)
    }

    func recordOwedCommands(_ count: Int) {
        registry.makeGauge(descriptor: name("commands_owed", "", "Outputs whose command is owed (failed, or not yet run after a delivery)."), labels: [])
            .set(to: Double(count))
    }

    func recordMissing(bundle: String) {
        registry.makeCounter(
            descriptor: name("bundles_missing", "total", "Bundle keys found absent from KV."), labels: [("bundle", bundle)]
        ).increment()
    }

    func recordRejected(bundle: String) {
        registry.makeCounter(
            descriptor: name("bundles_rejected", "total", "Bundle values that failed verification (corrupt, truncated, unknown version)."),
            labels: [("bundle", bundle)]
        ).increment()
    }
}
