import Foundation
import KV
import KVServer
import Testing
import TestFixtures

/// Blocking queries after the store's history was lost (restarted empty, restored from an older
/// snapshot). Async clients only: the server runs in this process, on the same threads.
@Suite("Blocking queries across an index reset")
struct IndexResetTests {
    @Test("an index beyond anything the store wrote is answered at once, with the store's lower index")
    func futureIndexAnswersAtOnce() async throws {
        let server = try await RunningKVServer.start()
        let kv = ConsulClient(.init(address: server.address))
        try await kv.put("a", value: Array("v".utf8))
        let current = try await kv.get("a").index
        let started = ContinuousClock.now
        let answer = try await kv.get("a", options: KVReadOptions(waitIndex: current + 1_000_000, waitTime: .seconds(30)))
        #expect(ContinuousClock.now - started < .seconds(20), "the query waited for an index the store will not reach")
        #expect(answer.index == current, "the answer carries the store's own, lower index")
        await server.stop()
    }

    @Test("a new empty store starts above the indexes an earlier one handed out")
    func freshStoreStartsHigh() async throws {
        let first = try await RunningKVServer.start()
        let old = ConsulClient(.init(address: first.address))
        for round in 0..<20 { try await old.put("k", value: Array("\(round)".utf8)) }
        let oldIndex = try await old.get("k").index
        await first.stop()
        let second = try await RunningKVServer.start()
        let new = ConsulClient(.init(address: second.address))
        try await new.put("k", value: Array("new".utf8))
        #expect(try await new.get("k").index > oldIndex, "a watcher holding the old index would take the new value for one it has seen")
        await second.stop()
    }
}
