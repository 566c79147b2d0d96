let arguments = Array(CommandLine.arguments.dropFirst())
let syncs = arguments.first.flatMap { Int($0) } ?? 10_000
print(try await SoakBenchmark.run(syncs: syncs))
