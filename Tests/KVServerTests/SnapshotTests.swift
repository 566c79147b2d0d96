import Foundation
import KV
@testable import KVServer
import Synchronization
import Testing
import TestFixtures

@Suite("Snapshots written beside the writes")
struct SnapshotTests {
    @Test("the ordered key list agrees with a plain sorted array through random inserts and removes")
    func sortedKeyList() {
        var list = SortedKeyList()
        var present = Set<ByteKey>()
        var generator = SystemRandomNumberGenerator()
        for step in 0..<20_000 {
            let key = ByteKey("k/\(Int.random(in: 0..<3_000, using: &generator))" + (step % 7 == 0 ? "/caf\u{E9}" : ""))
            if Bool.random(using: &generator) {
                if present.insert(key).inserted { list.insert(key.string) }
            } else if present.remove(key) != nil {
                list.remove(key.string)
            }
        }
        let reference = present.map(\.string).sorted { $0.sortsBefore($1) }
        #expect(list.count == reference.count)
        #expect(list.keys(from: "") == reference)
        let prefixed = list.keys(from: "k/12") { $0.hasKeyPrefix("k/12") }
        #expect(prefixed == reference.filter { $0.hasKeyPrefix("k/12") })
        if reference.count > 10 {
            #expect(list.keys(from: reference[4], inclusive: false, limit: 3) == Array(reference[5..<8]))
        }
    }

    @Test("a piece of a snapshot shows a key as it was before a write whose fsync is still running")
    func piecesHoldOnlyDurableValues() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        var limits = KVServerLimits()
        limits.logPreallocationBytes = 4096
        let store = try ServerStore(directory: directory.path, limits: limits)
        _ = try await store.put("a", value: Array("old".utf8), flags: 0, cas: nil)
        _ = try await store.put("b", value: Array("kept".utf8), flags: 0, cas: nil)
        await store.close()

        limits.slowFlush = .milliseconds(800)
        let slow = try ServerStore(directory: directory.path, limits: limits)
        let writer = Task {
            _ = try await slow.put("a", value: Array("new".utf8), flags: 0, cas: nil)
            _ = try await slow.delete("b", cas: nil)
        }
        try await eventually("the write is applied and waits for its fsync", timeout: .seconds(10)) { await !slow.pending.isEmpty }
        let piece = try #require(await slow.durablePiece(after: nil, limit: 10))
        #expect(piece.entries.map { String(decoding: $0.value, as: UTF8.self) } == ["old", "kept"])
        #expect(await slow.get("a").entry.map { String(decoding: $0.value, as: UTF8.self) } == "new", "the store itself has moved on")
        try await writer.value
        let after = try #require(await slow.durablePiece(after: nil, limit: 10))
        #expect(after.entries.map(\.key) == ["a"])
        #expect(after.entries.first.map { String(decoding: $0.value, as: UTF8.self) } == "new")
        await slow.close()
    }

    @Test("snapshots taken while 8 writers put and delete lose nothing they acknowledged")
    func snapshotsUnderWrites() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        var limits = KVServerLimits()
        limits.snapshotAfterLogBytes = 16 * 1024
        limits.logPreallocationBytes = 8 * 1024
        let truth = LastWrites()
        let server = try await RunningKVServer.start(KVServer(port: 0, dataDirectory: directory.path, limits: limits, logLevel: .critical))
        let client = ConsulClient(.init(address: server.address))
        try await withThrowingTaskGroup(of: Void.self) { group in
            for writer in 0..<8 {
                group.addTask {
                    for step in 0..<300 {
                        let key = "w/\(writer)/\(step % 40)"
                        if step % 9 == 8 {
                            _ = try await client.delete(key)
                            truth.record(key, nil)
                        } else {
                            let value = "\(writer)-\(step)-" + String(repeating: "x", count: 40)
                            _ = try await client.put(key, value: Array(value.utf8))
                            truth.record(key, value)
                        }
                    }
                }
            }
            try await group.waitForAll()
        }
        try await eventually("the last snapshot is done") {
            !FileManager.default.fileExists(atPath: directory.appending("wal.previous.log"))
        }
        #expect(FileManager.default.fileExists(atPath: directory.appending("snapshot.bin")))
        await server.stop()

        let restarted = try await RunningKVServer.start(KVServer(port: 0, dataDirectory: directory.path, limits: limits, logLevel: .critical))
        let reader = ConsulClient(.init(address: restarted.address))
        let stored = Dictionary(uniqueKeysWithValues: try await reader.list(prefix: "w/").value.map { ($0.key, String(decoding: $0.value, as: UTF8.self)) })
        let expected = truth.live
        #expect(stored == expected)
        await restarted.stop()
    }

    @Test("a damaged snapshot stops the start-up with the file and what is wrong; a JSON snapshot of an earlier version still loads")
    func damagedAndLegacySnapshots() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let legacy = """
            {"index":42,"catalogIndex":40,"kv":{"entries":[{"key":"old/key","value":"aGk=","flags":3,"createIndex":41,"modifyIndex":42,"lockIndex":0}],\
            "tombstoneList":[],"reapedFloor":0},"sessions":{},"catalog":{},"policies":{},"tokens":{}}
            """
        try legacy.write(toFile: directory.appending("snapshot.json"), atomically: true, encoding: .utf8)
        let store = try ServerStore(directory: directory.path)
        let entry = await store.get("old/key").entry
        #expect(entry.map { String(decoding: $0.value, as: UTF8.self) } == "hi")
        #expect(entry?.flags == 3)
        #expect(await store.currentIndex == 42)
        await store.close()

        var bytes = SnapshotFormat.header(startIndex: 7) + SnapshotFormat.entries([KVEntry(key: "k", value: [1, 2, 3])])
        bytes += try SnapshotFormat.tables(.init(catalogIndex: 7, sessionsIndex: 7, sessions: [], catalog: [], policies: [], tokens: [], tombstones: [], reapedFloor: 0))
        bytes += SnapshotFormat.checksum(of: bytes)
        let state = try SnapshotFormat.decode(bytes, path: "snapshot.bin")
        #expect(state.kv["k"]?.value == [1, 2, 3])
        var damaged = bytes
        damaged[damaged.count / 2] ^= 0xff
        #expect {
            _ = try SnapshotFormat.decode(damaged, path: "/data/snapshot.bin")
        } throws: { error in
            "\(error)".contains("/data/snapshot.bin is damaged (its checksum does not match)")
        }
    }
}

/// The last acknowledged write of each key (nil: deleted), from many writer tasks.
final class LastWrites: Sendable {
    private let values = Mutex<[String: String?]>([:])

    func record(_ key: String, _ value: String?) { values.withLock { $0[key] = .some(value) } }

    var live: [String: String] { values.withLock { $0 }.compactMapValues { $0 } }
}
