import Foundation
import KV
@testable import KVServer
import Synchronization
import Testing
import TestFixtures

@Suite("Durability with --data-dir")
struct DurabilityTests {
    @Test("kill -9 during a stream of acknowledged writes from 16 clients loses none of them")
    func killNineKeepsAcknowledgedWrites() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let (server, port) = try Git2KVBinary.startKVServer(dataDirectory: directory.path)
        let client = ConsulClient(.init(address: "http://127.0.0.1:\(port)", requestTimeout: .seconds(5)))
        let acknowledged = AcknowledgedWrites()
        let writers = (0..<16).map { writer in
            Task {
                var sequence = 0
                while true {
                    let key = "w/\(writer)/\(sequence)"
                    let value = Array("\(writer)-\(sequence)".utf8)
                    do {
                        if sequence % 5 == 4 {
                            _ = try await client.transaction([.set(key: key, value: value), .set(key: "w/last/\(writer)", value: value)])
                        } else {
                            guard try await client.put(key, value: value) else { return }
                        }
                    } catch {
                        return
                    }
                    acknowledged.record(key, value)
                    sequence += 1
                }
            }
        }
        // Kill once a good number of writes were acknowledged (however loaded the machine is).
        let deadline = ContinuousClock.now + .seconds(60)
        while acknowledged.count < 300, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        try await Task.sleep(for: .milliseconds(100))
        server.kill(SIGKILL)
        for writer in writers { await writer.value }

        let (restarted, newPort) = try Git2KVBinary.startKVServer(dataDirectory: directory.path)
        defer { restarted.kill() }
        let reader = ConsulClient(.init(address: "http://127.0.0.1:\(newPort)"))
        let stored = Dictionary(uniqueKeysWithValues: try await reader.list(prefix: "w/").value.map { ($0.key, $0.value) })
        let expected = acknowledged.all
        #expect(expected.count > 100, "the writers got going (\(expected.count) acknowledged)")
        let missing = expected.filter { stored[$0.key] != $0.value }
        #expect(missing.isEmpty, "\(missing.count) acknowledged writes missing after kill -9")
    }

    @Test("a torn record at the end of the log is dropped; everything before it is kept")
    func tornTail() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try await withServer(directory.path) { client in
            for number in 0..<20 { try await client.put("k/\(number)", value: [UInt8(number)]) }
        }
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: directory.appending("wal.log")))
        try log.seekToEnd()
        try log.write(contentsOf: Data([0x40, 0, 0, 0, 1, 2, 3]))
        try log.close()
        try await withServer(directory.path) { client in
            #expect(try await client.list(prefix: "k/").value.count == 20)
            try await client.put("k/after", value: [1])
        }
        try await withServer(directory.path) { client in
            let count = try await client.list(prefix: "k/").value.count
            #expect(count == 21)
        }
    }

    @Test("a damaged record with valid ones after it stops the start-up, naming the offset; --recover keeps what precedes it and says what it dropped")
    func damageInTheMiddle() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try await withServer(directory.path) { client in
            for number in 0..<20 { try await client.put("k/\(number)", value: [UInt8(number)]) }
        }
        // Flip one byte inside the sixth record's payload (the first registers the server's own node).
        let path = directory.appending("wal.log")
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        var offset = 0
        for _ in 0..<5 {
            let length = Int(bytes[offset]) | Int(bytes[offset + 1]) << 8 | Int(bytes[offset + 2]) << 16 | Int(bytes[offset + 3]) << 24
            offset += 12 + length
        }
        bytes[offset + 12 + 3] ^= 0xFF
        try Data(bytes).write(to: URL(fileURLWithPath: path))

        let refused = try Git2KVBinary.run(["kv-server", "--listen", "127.0.0.1:0", "--data-dir", directory.path])
        #expect(refused.status != 0)
        #expect(refused.errors.contains("damaged at offset \(offset)"), "\(refused.errors)")
        #expect(refused.errors.contains("15 valid records follow"), "\(refused.errors)")
        #expect(refused.errors.contains("--recover"))

        let stderr = directory.appending("recover.log")
        let recovering = try BackgroundProcess(
            Git2KVBinary.path, ["kv-server", "--listen", "127.0.0.1:0", "--data-dir", directory.path, "--recover"], standardErrorFile: stderr)
        defer { recovering.kill() }
        let port = try #require(recovering.announcedPort, "\(recovering.firstLine)")
        let client = ConsulClient(.init(address: "http://127.0.0.1:\(port)"))
        #expect(try await client.list(prefix: "k/").value.count == 4, "the four records before the damage are kept")
        let said = try String(contentsOfFile: stderr, encoding: .utf8)
        #expect(said.contains("kept the 5 records") && said.contains("15 valid records after it"), "\(said)")
    }

    @Test("with a slow disk, a read does not answer a write before that write is on disk and acknowledged")
    func noDirtyReads() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        var limits = KVServerLimits()
        limits.slowFlush = .milliseconds(1500)
        let server = try await RunningKVServer.start(KVServer(port: 0, dataDirectory: directory.path, limits: limits, logLevel: .critical))
        let client = ConsulClient(.init(address: server.address))
        let clock = ContinuousClock()
        let writer = Task {
            try await client.put("k", value: Array("new".utf8))
            return clock.now
        }
        // Long enough for the write to be applied and waiting on its fsync; the flush takes 1.5 s.
        try await Task.sleep(for: .milliseconds(300))
        let read = try await client.get("k")
        let readAt = clock.now
        let list = try await client.list(prefix: "")
        let acknowledged = try await writer.value
        #expect(read.value.map { String(decoding: $0.value, as: UTF8.self) } == "new", "read after the write was applied")
        #expect(readAt >= acknowledged - .milliseconds(100), "the read answered \(acknowledged - readAt) before the write was on disk")
        #expect(list.value.map(\.key) == ["k"])
        await server.stop()
    }

    @Test("snapshots compact the log; deletes and sessions survive restarts")
    func snapshotAndCompaction() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        var limits = KVServerLimits()
        limits.snapshotAfterLogBytes = 8 * 1024
        limits.logPreallocationBytes = 4 * 1024
        let session = SessionHolder()
        for round in 0..<2 {
            try await withServer(directory.path, limits: limits) { client in
                for number in 0..<150 { try await client.put("k/\(round)/\(number)", value: Array(repeating: 7, count: 64)) }
                for number in 0..<50 { try await client.delete("k/\(round)/\(number)") }
                if round == 0 { session.id = try await client.createSession(KVSessionOptions(name: "kept", ttl: .seconds(60))) }
                try await eventually("a snapshot is written in the background") { snapshotTaken(directory.path) }
            }
        }
        let attributes = try FileManager.default.attributesOfItem(atPath: directory.appending("wal.log"))
        let logSize = attributes[.size] as? Int ?? -1
        #expect(logSize >= 0 && logSize < 12 * 1024, "the log was compacted (\(logSize) bytes)")
        try await withServer(directory.path, limits: limits) { client in
            let keys = try await client.list(prefix: "k/").value.map(\.key)
            #expect(keys.count == 200)
            #expect(!keys.contains("k/0/1"))
            #expect(keys.contains("k/1/149"))
            let renewed = try await client.renewSession(session.id)
            #expect(renewed, "the session survived two restarts")
        }
    }

    @Test("NFC and NFD twins are two keys, in listings, deletes and blocking reads, across log replay and snapshots")
    func byteExactKeys() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let composed = "x/caf\u{E9}"
        let decomposed = "x/cafe\u{301}"
        #expect(composed == decomposed, "Swift calls them equal; the store must not")
        var limits = KVServerLimits()
        limits.snapshotAfterLogBytes = 2 * 1024
        limits.logPreallocationBytes = 1024
        try await withServer(directory.path, limits: limits) { client in
            try await client.put(composed, value: Array("composed".utf8))
            try await client.put(decomposed, value: Array("decomposed".utf8))
            try await client.put("x/other", value: Array("o".utf8))
            try await client.delete(decomposed)
            try await client.put(decomposed, value: Array("decomposed again".utf8))
        }
        // First restart: from the log. Then enough writes to take a snapshot, and restart from it.
        for round in 0..<2 {
            try await withServer(directory.path, limits: limits) { client in
                let keys = try await client.list(prefix: "x/").value.map(\.key)
                #expect(keys.count == 3, "round \(round): \(keys.map { Array($0.utf8) })")
                #expect(keys.contains { $0.utf8.elementsEqual(composed.utf8) } && keys.contains { $0.utf8.elementsEqual(decomposed.utf8) })
                let first = try await client.get(composed).value.map { String(decoding: $0.value, as: UTF8.self) }
                let second = try await client.get(decomposed).value.map { String(decoding: $0.value, as: UTF8.self) }
                #expect(first == "composed" && second == "decomposed again", "round \(round): \(String(describing: first)), \(String(describing: second))")
                if round == 0 {
                    for number in 0..<60 { try await client.put("filler/\(number)", value: Array(repeating: 1, count: 64)) }
                    try await eventually("a snapshot is written in the background") { snapshotTaken(directory.path) }
                }
            }
        }
    }

    @Test("the data directory is 0700 and its files 0600 (they hold token secrets); a wider old directory is narrowed")
    func privateFiles() async throws {
        let parent = try TemporaryDirectory()
        defer { parent.remove() }
        let directory = parent.appending("data")
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        _ = FileManager.default.createFile(atPath: directory + "/wal.log", contents: nil, attributes: [.posixPermissions: 0o644])
        var limits = KVServerLimits()
        limits.snapshotAfterLogBytes = 1024
        limits.logPreallocationBytes = 1024
        try await withServer(directory, limits: limits) { client in
            for number in 0..<40 { try await client.put("k/\(number)", value: Array(repeating: 1, count: 64)) }
            try await eventually("a snapshot is written in the background") { snapshotTaken(directory) }
        }
        func mode(_ path: String) -> Int { (try? FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int) ?? -1 }
        #expect(mode(directory) == 0o700)
        for file in ["wal.log", "snapshot.bin", "LOCK"] {
            #expect(mode(directory + "/" + file) == 0o600, "\(file) is \(String(mode(directory + "/" + file), radix: 8))")
        }
    }

    @Test("a second server on the same data directory is refused")
    func exclusiveDirectory() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let (first, _) = try Git2KVBinary.startKVServer(dataDirectory: directory.path)
        defer { first.kill() }
        let second = try Git2KVBinary.run(["kv-server", "--listen", "127.0.0.1:0", "--data-dir", directory.path])
        #expect(second.status != 0)
        #expect(second.errors.contains("in use by another kv-server"))
    }

    /// The snapshot is durable and the log it covers is gone.
    private func snapshotTaken(_ directory: String) -> Bool {
        FileManager.default.fileExists(atPath: directory + "/snapshot.bin") && !FileManager.default.fileExists(atPath: directory + "/wal.previous.log")
    }

    private func withServer(
        _ directory: String, limits: KVServerLimits = KVServerLimits(), _ body: (ConsulClient) async throws -> Void
    ) async throws {
        let server = try await RunningKVServer.start(KVServer(port: 0, dataDirectory: directory, limits: limits, logLevel: .critical))
        do {
            try await body(ConsulClient(.init(address: server.address)))
        } catch {
            await server.stop()
            throw error
        }
        await server.stop()
    }
}

/// Writes the server acknowledged, recorded by many writer tasks.
final class AcknowledgedWrites: Sendable {
    private let writes = Mutex<[String: [UInt8]]>([:])

    func record(_ key: String, _ value: [UInt8]) { writes.withLock { $0[key] = value } }

    var all: [String: [UInt8]] { writes.withLock { $0 } }

    var count: Int { writes.withLock { $0.count } }
}

final class SessionHolder: @unchecked Sendable {
    var id = ""
}
