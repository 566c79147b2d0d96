public import CoreMetrics

/// A swift-metrics backend that sends every value to a DogStatsD agent as it is recorded:
/// counters as `c`, aggregated recorders as `h`, other recorders and meters as `g`, timers as
/// `ms`. Dimensions become `key:value` tags, after the configured tags.
public struct DogStatsDMetricsFactory: MetricsFactory {
    public let sender: DogStatsDSender
    public let tags: [String]

    public init(sender: DogStatsDSender, tags: [String]) {
        self.sender = sender
        self.tags = tags
    }

    func tags(for dimensions: [(String, String)]) -> [String] {
        tags + dimensions.map { DogStatsDLine.tag($0.0, $0.1) }
    }

    public func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
        DogStatsDHandler(label: label, tags: tags(for: dimensions), type: .count, sender: sender)
    }

    public func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
        DogStatsDHandler(label: label, tags: tags(for: dimensions), type: aggregate ? .histogram : .gauge, sender: sender)
    }

    public func makeMeter(label: String, dimensions: [(String, String)]) -> any MeterHandler {
        DogStatsDMeter(label: label, tags: tags(for: dimensions), sender: sender)
    }

    public func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
        DogStatsDHandler(label: label, tags: tags(for: dimensions), type: .timing, sender: sender)
    }

    public func destroyCounter(_ handler: any CounterHandler) {}
    public func destroyRecorder(_ handler: any RecorderHandler) {}
    public func destroyMeter(_ handler: any MeterHandler) {}
    public func destroyTimer(_ handler: any TimerHandler) {}
}

/// Counters, recorders and timers: each call is one datagram; nothing is kept.
final class DogStatsDHandler: CounterHandler, RecorderHandler, TimerHandler, Sendable {
    private let label: String
    private let tags: [String]
    private let type: DogStatsDLine.MetricType
    private let sender: DogStatsDSender

    init(label: String, tags: [String], type: DogStatsDLine.MetricType, sender: DogStatsDSender) {
        self.label = label
        self.tags = tags
        self.type = type
        self.sender = sender
    }

    private func send(_ value: String) {
        sender.send(DogStatsDLine.metric(label, value: value, type: type, tags: tags))
    }

    func increment(by amount: Int64) { send(String(amount)) }
    /// DogStatsD counters are deltas, and the agent resets them every flush.
    func reset() {}
    func record(_ value: Int64) { send(String(value)) }
    func record(_ value: Double) { send(DogStatsDLine.value(value)) }
    func recordNanoseconds(_ duration: Int64) { send(DogStatsDLine.value(Double(duration) / 1_000_000)) }
}
