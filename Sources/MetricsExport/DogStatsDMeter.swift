import CoreMetrics
import Synchronization

/// A meter (a gauge that also goes up and down by steps): the value is kept here, because
/// DogStatsD's relative gauges (`+1|g`) are lost with any datagram, and every change sends the
/// absolute value.
final class DogStatsDMeter: MeterHandler, Sendable {
    private let label: String
    private let tags: [String]
    private let sender: DogStatsDSender
    private let current = Mutex<Double>(0)

    init(label: String, tags: [String], sender: DogStatsDSender) {
        self.label = label
        self.tags = tags
        self.sender = sender
    }

    private func change(_ update: (inout Double) -> Void) {
        let value = current.withLock { value in
            update(&value)
            return value
        }
        sender.send(DogStatsDLine.metric(label, value: DogStatsDLine.value(value), type: .gauge, tags: tags))
    }

    func set(_ value: Int64) { change { $0 = Double(value) } }
    func set(_ value: Double) { change { $0 = value } }
    func increment(by amount: Double) { change { $0 += amount } }
    func decrement(by amount: Double) { change { $0 -= amount } }
}
