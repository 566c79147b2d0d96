let arguments = Array(CommandLine.arguments.dropFirst())
let keys = arguments.first.flatMap { Int($0) } ?? 1_000_000
let restarts = arguments.count > 1 ? Int(arguments[1]) ?? 3 : 3
print(try await KVScaleBenchmark.run(keys: keys, restarts: restarts))
