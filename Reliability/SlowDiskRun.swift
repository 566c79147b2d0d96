import Foundation
import KV
import Synchronization
import TestFixtures

/// kv-server on a slow disk (every fsync delayed), killed with -9 again and again while writers
/// put new keys and readers list them. After each restart every key a reader was ever shown
/// must still be there (a read of a write that was not yet durable would show a key a crash
/// then loses), and so must every acknowledged write.
struct SlowDiskRun {
    static let fsyncDelay = "150ms"

    let cycles: Int
    let seed: UInt64
    let root: String

    func run() async throws -> ScenarioReport {
        try FileManager.default.createDirectory(atPath: root + "/logs", withIntermediateDirectories: true)
        let port = ClosedPort.find(count: 1)[0]
        let address = "http://127.0.0.1:\(port)"
        let kvServer = SupervisedProcess(
            name: "kv-server", executable: Git2KVBinary.path,
            arguments: ["kv-server", "--listen", "127.0.0.1:\(port)", "--data-dir", root + "/data", "--simulate-slow-fsync", Self.fsyncDelay],
            logPath: root + "/logs/kv-server.log", healthURL: address + "/v1/status/leader")
        defer { kvServer.kill9() }
        let client = ConsulClient(.init(address: address, requestTimeout: .seconds(10)))
        let seen = KeyLedger()
        let acknowledged = KeyLedger()
        var generator = SeededGenerator(seed: seed)
        var lostReads = 0
        var lostWrites = 0
        for cycle in 0...cycles {
            try kvServer.start()
            guard await HTTPProbe.waitUntilHealthy(kvServer.healthURL, timeout: .seconds(60)) else {
                throw ReliabilityFailure("kv-server did not come back after kill -9 \(cycle) (see \(root)/logs)")
            }
            let present = Set(try await client.keys(prefix: "w/", separator: nil, options: KVReadOptions()).value)
            lostReads += seen.all.subtracting(present).count
            lostWrites += acknowledged.all.subtracting(present).count
            guard cycle < cycles else { break }
            let load = Task {
                await withTaskGroup(of: Void.self) { group in
                    for writer in 0..<4 {
                        group.addTask {
                            var sequence = 0
                            while !Task.isCancelled {
                                let key = "w/\(cycle)/\(writer)/\(sequence)"
                                guard (try? await client.put(key, value: Array("\(sequence)".utf8))) == true else { return }
                                acknowledged.add([key])
                                sequence += 1
                            }
                        }
                    }
                    for _ in 0..<4 {
                        group.addTask {
                            while !Task.isCancelled {
                                guard let keys = try? await client.keys(prefix: "w/", separator: nil, options: KVReadOptions()).value else { return }
                                seen.add(keys)
                            }
                        }
                    }
                }
            }
            try await Task.sleep(for: .milliseconds(Int.random(in: 400...1500, using: &generator)))
            kvServer.kill9()
            load.cancel()
            await load.value
        }
        let passed = lostReads == 0 && lostWrites == 0 && seen.count > 0
        return ScenarioReport(
            lines: [
                "slow disk (every fsync +\(Self.fsyncDelay)), \(cycles) kill -9 of kv-server while 4 writers put and 4 readers list: "
                    + "\(acknowledged.count) writes acknowledged, \(seen.count) keys read; reads of lost writes: \(lostReads), acknowledged writes lost: \(lostWrites)"
            ],
            passed: passed)
    }
}

/// Keys recorded by many tasks.
final class KeyLedger: Sendable {
    private let keys = Mutex<Set<String>>([])

    func add(_ new: [String]) { keys.withLock { $0.formUnion(new) } }

    var all: Set<String> { keys.withLock { $0 } }

    var count: Int { keys.withLock { $0.count } }
}
