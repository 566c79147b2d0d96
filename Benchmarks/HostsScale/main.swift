import BenchmarkSupport
import Foundation

let arguments = Array(CommandLine.arguments.dropFirst())
let healthEvents = arguments.first.flatMap { Int($0) } ?? 7
let registrationEvents = arguments.dropFirst().first.flatMap { Int($0) } ?? 3
let idleSeconds = arguments.dropFirst(2).first.flatMap { Int($0) } ?? 60
let sizes = [
    HostsScaleBenchmark.Size(label: "1,000 services × 10 on 2,000 nodes", services: 1_000, nodes: 2_000, renderers: 50),
    HostsScaleBenchmark.Size(label: "10,000 services × 10 on 10,000 nodes", services: 10_000, nodes: 10_000, renderers: 20),
].filter { ProcessInfo.processInfo.environment["HOSTS_SCALE_ONLY"].map($0.label.hasPrefix) ?? true }
var reports: [HostsScaleBenchmark.Report] = []
for size in sizes {
    FileHandle.standardError.write(Data("hosts at \(size.label)...\n".utf8))
    reports.append(try await HostsScaleBenchmark.measure(size, healthEvents: healthEvents, registrationEvents: registrationEvents, idle: .seconds(idleSeconds)))
}
print(HostsScaleReport.markdown(reports, healthEvents: healthEvents, registrationEvents: registrationEvents, idleSeconds: idleSeconds))
