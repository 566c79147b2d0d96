import KV

let arguments = Array(CommandLine.arguments.dropFirst())
if arguments.first == "write-load" {
    // `write-load ADDRESS [ROUNDS]`: only the 16-writer load against a running server, for profiling it.
    let address = arguments.count > 1 ? arguments[1] : "http://127.0.0.1:8500"
    let rounds = arguments.count > 2 ? Int(arguments[2]) ?? 3 : 3
    let client = ConsulClient(.init(address: address))
    for _ in 0..<rounds {
        let rate = try await KVLayerBenchmark.writeRate { writer, sequence in
            try await client.put("writes/\(writer)/\(sequence % 100)", value: Array("value \(sequence)".utf8))
        }
        print("\(Int(rate)) writes/s")
    }
} else {
    let rounds = arguments.first.flatMap { Int($0) } ?? 7
    print(try await KVLayerBenchmark.run(rounds: rounds))
}
