let arguments = Array(CommandLine.arguments.dropFirst())
let rounds = arguments.first.flatMap { Int($0) } ?? 21
print(try await NodeBinaryBenchmark.run(rounds: rounds))
