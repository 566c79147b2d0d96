import Foundation

/// Repeated timings of one operation, summarised by their median (the machines are noisy).
public struct Timings: Sendable {
    public let name: String
    public private(set) var samples: [Duration] = []

    public init(name: String) {
        self.name = name
    }

    public mutating func record(_ duration: Duration) {
        samples.append(duration)
    }

    public var median: Duration {
        let sorted = samples.sorted()
        guard !sorted.isEmpty else { return .zero }
        return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
    }

    public var minimum: Duration { samples.min() ?? .zero }

    public var maximum: Duration { samples.max() ?? .zero }
}

extension Duration {
    public var milliseconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) * 1_000 + Double(attoseconds) / 1e15
    }
}

public func formatMilliseconds(_ duration: Duration) -> String {
    let value = duration.milliseconds
    return value < 10 ? String(format: "%.3f ms", value) : String(format: "%.1f ms", value)
}

/// The median of plain numbers (rates), for measurements that are not durations.
public func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    guard !sorted.isEmpty else { return 0 }
    return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
}

/// The machine, for the header of a report.
public func machineDescription() -> String {
    let cores = ProcessInfo.processInfo.activeProcessorCount
    let memory = Double(ProcessInfo.processInfo.physicalMemory) / 1_073_741_824
    return "\(cores) cores, \(String(format: "%.0f", memory)) GiB"
}

/// A benchmark that could not measure what it meant to (a peer disagreed, a step failed).
public struct BenchmarkFailure: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
