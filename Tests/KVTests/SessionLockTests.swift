import Foundation
import KV
import KVServer
import TestFixtures
import Testing

@Suite("Sessions and locks")
struct SessionLockTests {
    @Test("one session holds a lock; another cannot take it until it is released")
    func acquireAndRelease() async throws {
        let kv = try await ServerAndClient.start(server: .quickSessions())
        let client = kv.client
        let first = try await client.createSession(KVSessionOptions(name: "leader-a", ttl: .seconds(60), lockDelay: .zero))
        let second = try await client.createSession(KVSessionOptions(name: "leader-b", ttl: .seconds(60), lockDelay: .zero))
        #expect(first != second)

        #expect(try await client.acquire("locks/config", value: Array("a".utf8), session: first))
        #expect(!(try await client.acquire("locks/config", value: Array("b".utf8), session: second)))
        let held = try #require(try await client.get("locks/config").value)
        #expect(held.session == first)
        #expect(held.lockIndex == 1)
        #expect(held.value == Array("a".utf8))

        #expect(try await client.acquire("locks/config", value: Array("a2".utf8), session: first), "the holder may update")
        #expect(try await client.get("locks/config").value?.lockIndex == 1, "re-acquiring does not count as a new lock")

        #expect(!(try await client.release("locks/config", value: [], session: second)), "only the holder releases")
        #expect(try await client.release("locks/config", value: Array("free".utf8), session: first))
        #expect(try await client.get("locks/config").value?.session == nil)
        #expect(try await client.acquire("locks/config", value: Array("b".utf8), session: second))
        #expect(try await client.get("locks/config").value?.lockIndex == 2)
        await kv.stop()
    }

    @Test("a session that is not renewed expires and releases its lock; renewing keeps it")
    func expiryReleasesLock() async throws {
        let clock = ManualClock()
        var server = KVServer.quickSessions()
        server.clock = ServiceClock(clock)
        let kv = try await ServerAndClient.start(server: server)
        let client = kv.client
        let kept = try await client.createSession(KVSessionOptions(name: "kept", ttl: .seconds(3), lockDelay: .zero))
        let lapsed = try await client.createSession(KVSessionOptions(name: "lapsed", ttl: .seconds(2), lockDelay: .zero))
        #expect(try await client.acquire("locks/kept", value: [1], session: kept))
        #expect(try await client.acquire("locks/lapsed", value: [1], session: lapsed))
        let before = try await client.get("locks/lapsed")

        let watcher = Task { try await client.get("locks/lapsed", options: KVReadOptions(waitIndex: before.index, waitTime: .seconds(60))) }
        // Ten renewals a second apart: the kept session (3 s) lives on, the lapsed one (2 s) ends.
        for _ in 0..<10 {
            clock.advance(by: .seconds(1))
            #expect(try await client.renewSession(kept))
        }
        let released = try await watcher.value
        #expect(released.value?.session == nil, "the lock was released when the session expired")
        #expect(released.value?.value == [1], "release behaviour keeps the key")
        #expect(try await client.get("locks/kept").value?.session == kept)
        #expect(!(try await client.renewSession(lapsed)), "an expired session cannot be renewed")
        let other = try await client.createSession(KVSessionOptions(name: "next", ttl: .seconds(10), lockDelay: .zero))
        #expect(try await client.acquire("locks/lapsed", value: [2], session: other), "a follower can take over")
        await kv.stop()
    }

    @Test("delete behaviour removes the keys; lock delay blocks a new holder for a while")
    func deleteBehaviourAndLockDelay() async throws {
        let clock = ManualClock()
        var server = KVServer.quickSessions()
        server.clock = ServiceClock(clock)
        let kv = try await ServerAndClient.start(server: server)
        let client = kv.client
        let ephemeral = try await client.createSession(KVSessionOptions(name: "e", ttl: .seconds(10), behavior: .delete, lockDelay: .zero))
        #expect(try await client.acquire("nodes/web-1", value: [1], session: ephemeral))
        try await client.destroySession(ephemeral)
        #expect(try await client.get("nodes/web-1").value == nil)

        let delayed = try await client.createSession(KVSessionOptions(name: "d", ttl: .seconds(10), lockDelay: .seconds(5)))
        #expect(try await client.acquire("locks/x", value: [1], session: delayed))
        try await client.destroySession(delayed)
        let next = try await client.createSession(KVSessionOptions(name: "n", ttl: .seconds(10), lockDelay: .zero))
        #expect(!(try await client.acquire("locks/x", value: [2], session: next)), "lock delay still running")
        clock.advance(by: .milliseconds(4900))
        #expect(!(try await client.acquire("locks/x", value: [2], session: next)), "lock delay still running")
        clock.advance(by: .milliseconds(200))
        #expect(try await client.acquire("locks/x", value: [2], session: next))
        await kv.stop()
    }

    @Test("transaction lock and unlock verbs; an unknown session is refused")
    func transactionLocks() async throws {
        let kv = try await ServerAndClient.start(server: .quickSessions())
        let client = kv.client
        let session = try await client.createSession(KVSessionOptions(name: "t", ttl: .seconds(60), lockDelay: .zero))
        _ = try await client.transaction([.lock(key: "locks/t", value: [1], session: session), .set(key: "data", value: [1])])
        #expect(try await client.get("locks/t").value?.session == session)
        let failure = await #expect(throws: KVError.self) {
            try await client.transaction([.lock(key: "locks/t", value: [2], session: "no-such-session")])
        }
        #expect(failure?.failures.first?.reason.contains("invalid session") == true)
        _ = try await client.transaction([.unlock(key: "locks/t", value: [], session: session)])
        #expect(try await client.get("locks/t").value?.session == nil)
        let bad = await #expect(throws: KVError.self) { try await client.acquire("locks/u", value: [], session: "missing") }
        #expect(bad?.status == 500)
        let tooShort = await #expect(throws: KVError.self) {
            try await kv.client.createSession(KVSessionOptions(name: "x", ttl: .milliseconds(10)))
        }
        #expect(tooShort?.kind == .badRequest)
        await kv.stop()
    }
}
