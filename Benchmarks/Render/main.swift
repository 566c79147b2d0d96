let arguments = Array(CommandLine.arguments.dropFirst())
let rounds = arguments.first.flatMap { Int($0) } ?? 7
print(try await RenderBenchmark.run(rounds: rounds))
