/// Repeated timings of one operation, summarised by their median (the machines are noisy).
struct Measurement {
    let name: String
    private(set) var samples: [Duration] = []

    init(name: String) {
        self.name = name
    }

    mutating func record(_ duration: Duration) {
        samples.append(duration)
    }

    var median: Duration {
        let sorted = samples.sorted()
        guard !sorted.isEmpty else { return .zero }
        return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
    }

    var minimum: Duration { samples.min() ?? .zero }

    var maximum: Duration { samples.max() ?? .zero }
}

extension Duration {
    var milliseconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) * 1_000 + Double(attoseconds) / 1e15
    }
}

func formatMilliseconds(_ duration: Duration) -> String {
    let value = duration.milliseconds
    return value < 10 ? String(format: "%.3f ms", value) : String(format: "%.1f ms", value)
}
