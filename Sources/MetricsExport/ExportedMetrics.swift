public import ConfigParsing
import CoreMetrics
public import Prometheus

/// One place to record a process's metrics: always into the Prometheus registry served at
/// `/metrics`, and also to DogStatsD when `metrics.dogstatsd` is set. Names are the same in
/// both: Prometheus `git2kv_render_outputs_total` is DogStatsD `git2kv.render.outputs`.
public final class ExportedMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    public let dogStatsD: DogStatsDMetricsFactory?
    /// Prometheus namespace, such as `git2kv` or `git2kv_render`.
    private let namespace: String

    public init(namespace: String, registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry(), dogStatsD: DogStatsDMetricsFactory? = nil) {
        self.namespace = namespace
        self.registry = registry
        self.dogStatsD = dogStatsD
    }

    /// From a `metrics:` setting; fails when the agent's host name cannot be resolved.
    public convenience init(namespace: String, config: MetricsConfig) throws(DogStatsDError) {
        let factory = try config.dogStatsD.map { address throws(DogStatsDError) in
            DogStatsDMetricsFactory(sender: try DogStatsDSender(host: address.host, port: address.port), tags: config.tags)
        }
        self.init(namespace: namespace, dogStatsD: factory)
    }

    public func exposition() -> String { registry.emitToString() }

    public func increment(_ name: MetricName, labels: [(String, String)] = [], by amount: Int64 = 1) {
        registry.makeCounter(descriptor: descriptor(name), labels: labels).increment(by: amount)
        if let dogStatsD { Counter(label: statsdLabel(name), dimensions: labels, factory: dogStatsD).increment(by: amount) }
    }

    public func set(_ name: MetricName, labels: [(String, String)] = [], to value: Double) {
        registry.makeGauge(descriptor: descriptor(name), labels: labels).set(to: value)
        if let dogStatsD { Gauge(label: statsdLabel(name), dimensions: labels, factory: dogStatsD).record(value) }
    }

    public func record(_ name: MetricName, labels: [(String, String)] = [], buckets: [Duration], _ duration: Duration) {
        registry.makeDurationHistogram(descriptor: descriptor(name), labels: labels, buckets: buckets).record(duration)
        if let dogStatsD { Timer(label: statsdLabel(name), dimensions: labels, factory: dogStatsD).recordNanoseconds(duration.nanoseconds) }
    }

    /// A Datadog event, when DogStatsD is configured.
    public func send(_ event: DogStatsDEvent) {
        guard let dogStatsD else { return }
        dogStatsD.sender.send(DogStatsDLine.event(event, tags: dogStatsD.tags))
    }

    private func descriptor(_ name: MetricName) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: namespace, metricName: name.metric, unitName: name.unit, helpText: name.help)
    }

    private func statsdLabel(_ name: MetricName) -> String {
        namespace.replacingOccurrences(of: "_", with: ".") + "." + name.metric
    }
}

extension Duration {
    fileprivate var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}

/// A metric's name, unit (as Prometheus suffixes it: `total`, `seconds`) and help text.
public struct MetricName: Sendable {
    public let metric: String
    public let unit: String
    public let help: String

    public init(_ metric: String, _ unit: String, _ help: String) {
        self.metric = metric
        self.unit = unit
        self.help = help
    }
}
