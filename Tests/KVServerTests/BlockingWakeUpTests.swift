import Foundation
@testable import KVServer
import Testing
import TestFixtures

/// A blocking query takes its answer, then registers its wait; a write landing between the two
/// must still end the wait (a lost wake-up held a renderer on a stale value for a whole wait).
@Suite("Blocking query wake-ups")
struct BlockingWakeUpTests {
    @Test("a change announced after the answer and before the wait ends the wait at once", .timeLimit(.minutes(1)), arguments: [false, true])
    func changeBetweenAnswerAndWait(onDisk: Bool) async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let store = onDisk ? try ServerStore(directory: directory.path) : ServerStore()
        let seen = await store.changesAnnounced
        _ = try await store.put("watched", value: Array("new".utf8), flags: 0, cas: nil)
        await store.waitForChange(of: .key("watched"), after: seen, until: .now + .seconds(600))
        #expect(await store.waitingQueries == 0)
        await store.close()
    }

    @Test("with nothing announced since the answer, the wait lasts until a change concerning it", .timeLimit(.minutes(1)))
    func waitsForAConcerningChange() async throws {
        let store = ServerStore()
        let seen = await store.changesAnnounced
        let waiting = Task { await store.waitForChange(of: .key("watched"), after: seen, until: .now + .seconds(600)) }
        try await eventually("the query waits") { await store.waitingQueries == 1 }
        _ = try await store.put("other", value: [1], flags: 0, cas: nil)
        #expect(await store.waitingQueries == 1, "a change to another key leaves it waiting")
        _ = try await store.put("watched", value: [2], flags: 0, cas: nil)
        await waiting.value
        #expect(await store.waitingQueries == 0)
    }
}
