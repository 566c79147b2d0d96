import BenchmarkSupport
import Foundation

let arguments = CommandLine.arguments.dropFirst()
let iterations = arguments.first.flatMap { Int($0) } ?? 31
let report = try await GitLayerBenchmark.run(iterations: iterations)
print(report)
