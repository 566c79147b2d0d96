let arguments = CommandLine.arguments.dropFirst()
let rounds = arguments.first.flatMap { Int($0) } ?? 7
print(try await KVLayerBenchmark.run(rounds: rounds))
