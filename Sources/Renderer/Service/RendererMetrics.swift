public import ConfigParsing
public import MetricsExport
import Synchronization

/// The renderer's metrics: Prometheus at /metrics (with `--listen`), DogStatsD when configured.
public final class RendererMetrics: Sendable {
    /// Prometheus at /metrics, and DogStatsD when configured.
    public let exported: ExportedMetrics

    /// `metrics.events`: a Datadog event per delivery.
    let sendsEvents: Bool
    /// Per destination, the failure (commit and reason) last announced by an event, so a
    /// failure that repeats on every pass is announced once, and again for a new commit.
    private let announcedFailures = Mutex<[String: String]>([:])

    public init(exported: ExportedMetrics = ExportedMetrics(namespace: "git2kv_render"), sendsEvents: Bool = false) {
        self.exported = exported
        self.sendsEvents = sendsEvents
    }

    /// From the renderer's `metrics:` setting; fails when the DogStatsD agent's name cannot be resolved.
    public convenience init(config: MetricsConfig) throws(DogStatsDError) {
        self.init(exported: try ExportedMetrics(namespace: "git2kv_render", config: config), sendsEvents: config.events)
    }

    public func exposition() -> String { exported.exposition() }

    func record(_ report: RenderReport, at now: Double) {
        for output in report.outputs {
            let outcome = switch output.status {
            case .unchanged: "unchanged"
            case .written(let inPlace): inPlace ? "written_in_place" : "written"
            case .wouldChange: "would_change"
            case .failed(let error): "failed_\(error.kind.rawValue)"
            }
            exported.increment(MetricName("outputs", "total", "Outputs rendered, by destination and outcome."), labels: [("destination", output.destination), ("outcome", outcome)])
            if case .failed = output.status {} else {
                exported.set(MetricName("output_last_success", "timestamp_seconds", "When an output was last rendered without error."), labels: [("destination", output.destination)], to: now)
            }
        }
        for command in report.commands {
            exported.increment(MetricName("commands", "total", "Commands run after deliveries, by outcome."), labels: [("outcome", command.error == nil ? "success" : "failure")])
        }
        exported.set(MetricName("last_pass", "timestamp_seconds", "When the last render pass ended."), to: now)
        if sendsEvents {
            for output in report.outputs { announce(output, at: now) }
        }
    }

    /// One event per delivery (a file written, or a failure not announced before), never for
    /// an unchanged output.
    private func announce(_ output: RenderReport.Output, at now: Double) {
        let outcome: String
        let alertType: DogStatsDEvent.AlertType
        let reason: String?
        switch output.status {
        case .unchanged, .wouldChange:
            announcedFailures.withLock { $0[output.destination] = nil }
            return
        case .written:
            announcedFailures.withLock { $0[output.destination] = nil }
            (outcome, alertType, reason) = ("delivered", .success, nil)
        case .failed(let error):
            let failure = "\(output.commit ?? "") \(error.message)"
            let isNew = announcedFailures.withLock { announced in
                defer { announced[output.destination] = failure }
                return announced[output.destination] != failure
            }
            guard isNew else { return }
            (outcome, alertType, reason) = ("failed_\(error.kind.rawValue)", .error, error.message)
        }
        var lines = ["bundle: \(output.bundle)", "commit: \(output.commit ?? "unknown")", "destination: \(output.destination)", "outcome: \(outcome)"]
        if let reason { lines.append("reason: \(reason)") }
        exported.send(
            DogStatsDEvent(
                title: alertType == .success ? "git2kv delivered \(output.destination)" : "git2kv could not deliver \(output.destination)",
                text: lines.joined(separator: "\n"), alertType: alertType, timestamp: Int(now), aggregationKey: output.destination,
                tags: [DogStatsDLine.tag("bundle", output.bundle), DogStatsDLine.tag("destination", output.destination), DogStatsDLine.tag("outcome", outcome)]))
    }

    func recordWatchError(bundle: String) {
        exported.increment(MetricName("watch_errors", "total", "Failed blocking queries, by bundle."), labels: [("bundle", bundle)])
    }

    func recordKVContact(at now: Double) {
        exported.set(MetricName("kv_last_contact", "timestamp_seconds", "When a query to KV last came back (a value or a blocking wait that ran out)."), to: now)
    }

    func recordOwedCommands(_ count: Int) {
        exported.set(MetricName("commands_owed", "", "Outputs whose command is owed (failed, or not yet run after a delivery)."), to: Double(count))
    }

    func recordMissing(bundle: String) {
        exported.increment(MetricName("bundles_missing", "total", "Bundle keys found absent from KV."), labels: [("bundle", bundle)])
    }

    func recordReport(written: Bool) {
        exported.increment(MetricName("reports", "total", "Delivery reports written to KV, or attempts that failed (retried with backoff)."), labels: [("outcome", written ? "written" : "failed")])
    }

    func recordRejected(bundle: String) {
        exported.increment(MetricName("bundles_rejected", "total", "Bundle values that failed verification (corrupt, truncated, unknown version)."), labels: [("bundle", bundle)])
    }
}
