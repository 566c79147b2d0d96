let arguments = Array(CommandLine.arguments.dropFirst())
let rounds = arguments.first.flatMap { Int($0) } ?? 5
print(try await SyncBenchmark.run(rounds: rounds))
