import BenchmarkSupport
import Foundation

/// BENCHMARKS.md's hosts section: one column per catalog size.
enum HostsScaleReport {
    static func markdown(_ reports: [HostsScaleBenchmark.Report], healthEvents: Int, registrationEvents: Int, idleSeconds: Int) -> String {
        func row(_ measure: String, _ target: String, _ value: (HostsScaleBenchmark.Report) -> String) -> String {
            "| \(measure) | " + reports.map(value).joined(separator: " | ") + " | \(target) |"
        }
        func costs(_ name: String, _ pick: @escaping (HostsScaleBenchmark.Report) -> [HostsScaleBenchmark.EventCost], targets: Bool) -> [String] {
            [
                row("\(name): generator requests (median, max)", targets ? "≤ 50" : "—") { report in
                    let values = pick(report).map { Double($0.generatorRequests) }
                    return "\(Int(median(values))), \(Int(values.max() ?? 0))"
                },
                row("\(name): generator bytes (median)", "—") { bytes(median(pick($0).map { Double($0.generatorBytes) })) },
                row("\(name): bytes per node, whole file (median, max)", targets ? "≤ 32 KiB (10⁴), ≤ 64 KiB (10⁵)" : "—") { report in
                    let values = pick(report).map(\.bytesPerNode)
                    return "\(bytes(median(values))), \(bytes(values.max() ?? 0))"
                },
                row("\(name): requests per node (median)", "—") { String(format: "%.1f", median(pick($0).map(\.requestsPerNode))) },
                row("\(name): bytes for a node selecting 3 other services (median)", "—") { bytes(median(pick($0).map { Double($0.subsetBytes) })) },
                row("\(name): change → every renderer's file renamed (median, max)", targets ? "≤ 5 s (10⁴), ≤ 10 s (10⁵)" : "—") { report in
                    let times = pick(report).map(\.toAllNodes)
                    return "\(formatMilliseconds(Timings.median(times))), \(formatMilliseconds(times.max() ?? .zero))"
                },
            ]
        }
        var lines = [
            "Machine: \(machineDescription()). \(healthEvents) health changes and \(registrationEvents) re-registrations per size, medians.",
            "",
            "| measure | " + reports.map(\.size.label).joined(separator: " | ") + " | target |",
            "|---|" + reports.map { _ in "---|" }.joined() + "---|",
            row("instances; renderers (whole file) + 1 selecting 3 services", "—") { "\($0.instances.formatted()); \($0.size.renderers) + 1" },
            row("hosts file (256 shards)", "—") { "\(bytes(Double($0.fileBytes))), \($0.lines.formatted()) lines" },
            row("catalog → first publish (generator start, every service read)", "—") { formatMilliseconds($0.initialPublish) },
        ]
        lines += costs("health change (a check goes critical)", \.health, targets: true)
        lines += costs("re-registration at a new address", \.registration, targets: false)
        lines += [
            row("idle requests per minute: generator", "≤ 10") { String(format: "%.1f", $0.idleGeneratorPerMinute) },
            row("idle requests per minute: one node", "—") { String(format: "%.2f", $0.idleNodePerMinute) },
            row("RSS: generator; one renderer (median); kv-server", "—") {
                "\(mebibytes($0.rssGenerator)); \(mebibytes($0.rssRenderer)); \(mebibytes($0.rssKVServer))"
            },
        ]
        return lines.joined(separator: "\n")
    }

    private static func bytes(_ value: Double) -> String {
        value >= 1_048_576 ? String(format: "%.1f MiB", value / 1_048_576) : value >= 1_024 ? String(format: "%.1f KiB", value / 1_024) : "\(Int(value)) B"
    }

    private static func mebibytes(_ kilobytes: Int) -> String { String(format: "%.0f MiB", Double(kilobytes) / 1_024) }
}

extension Timings {
    static func median(_ durations: [Duration]) -> Duration {
        var timings = Timings(name: "")
        for duration in durations { timings.record(duration) }
        return timings.median
    }
}
