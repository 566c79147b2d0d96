import KV
import StoreFixtures
import Testing

/// What git2kv relies on from any store, checked on kv-server and on a real etcd alike.
@Suite("KV store contract on kv-server and etcd")
struct StoreContractTests {
    @Test("put, get, list, keys with a separator, delete", arguments: StoreBackend.allCases)
    func basics(backend: StoreBackend) async throws {
        let store = try await TestStore.start(backend)
        defer { Task { await store.stop() } }
        let kv = store.kv
        #expect(try await kv.put("config/apps/web", value: Array("web".utf8)))
        #expect(try await kv.put("config/apps/api", value: Array("api".utf8)))
        #expect(try await kv.put("config/apps/deep/x", value: []))
        #expect(try await kv.put("config/other", value: Array("o".utf8)))

        let web = try await kv.get("config/apps/web")
        #expect(web.value?.value == Array("web".utf8))
        #expect(web.index >= web.value?.modifyIndex ?? .max)
        #expect(try await kv.get("config/apps/deep/x").value?.value == [], "empty values come back empty")
        #expect(try await kv.get("config/nothing").value == nil)

        #expect(try await kv.list(prefix: "config/apps/").value.map(\.key) == ["config/apps/api", "config/apps/deep/x", "config/apps/web"])
        #expect(try await kv.keys(prefix: "config/", separator: "/", options: .default).value == ["config/apps/", "config/other"])
        #expect(try await kv.keys(prefix: "config/apps/", separator: nil, options: .default).value.count == 3)
        #expect(try await kv.list(prefix: "nothing/").value.isEmpty)

        #expect(try await kv.delete("config/apps/api"))
        #expect(try await kv.get("config/apps/api").value == nil)
    }

    @Test("compare-and-set: 0 creates only, a stale index is refused", arguments: StoreBackend.allCases)
    func compareAndSet(backend: StoreBackend) async throws {
        let store = try await TestStore.start(backend)
        defer { Task { await store.stop() } }
        let kv = store.kv
        #expect(try await kv.put("k", value: [1], cas: 0))
        #expect(!(try await kv.put("k", value: [2], cas: 0)))
        let current = try #require(try await kv.get("k").value)
        #expect(try await kv.put("k", value: [3], cas: current.modifyIndex))
        #expect(!(try await kv.put("k", value: [4], cas: current.modifyIndex)))
        #expect(try await kv.get("k").value?.value == [3])
        #expect(!(try await kv.delete("k", cas: current.modifyIndex)))
    }

    @Test("a recursive delete takes exactly its prefix, never siblings that share its start", arguments: StoreBackend.allCases)
    func deleteTreeIsScoped(backend: StoreBackend) async throws {
        let store = try await TestStore.start(backend)
        defer { Task { await store.stop() } }
        let kv = store.kv
        for key in ["app/test/a", "app/test/b", "app/test_dev/a", "app/testing"] {
            try await kv.put(key, value: [1])
        }
        let refused = await #expect(throws: KVError.self) { try await kv.deleteTree(prefix: "app/test") }
        #expect(refused?.kind == .invalidRequest)
        try await kv.deleteTree(prefix: "app/test/")
        #expect(try await kv.list(prefix: "app/").value.map(\.key) == ["app/test_dev/a", "app/testing"])
    }

    @Test("a transaction applies all or nothing and names the guard that failed", arguments: StoreBackend.allCases)
    func transactions(backend: StoreBackend) async throws {
        let store = try await TestStore.start(backend)
        defer { Task { await store.stop() } }
        let kv = store.kv
        try await kv.put("p/state", value: [1])
        let state = try #require(try await kv.get("p/state").value)
        let applied = try await kv.transaction([
            .checkIndex(key: "p/state", index: state.modifyIndex),
            .set(key: "p/a", value: [1]),
            .cas(key: "p/b", value: [2], index: 0),
            .deleteTree(prefix: "p/old/"),
            .set(key: "p/state", value: [2]),
        ])
        #expect(applied.index > state.modifyIndex)
        #expect(try await kv.get("p/a").value?.modifyIndex == applied.index, "every write of one transaction carries its index")

        let failed = await #expect(throws: KVError.self) {
            try await kv.transaction([
                .set(key: "p/c", value: [3]),
                .checkIndex(key: "p/state", index: state.modifyIndex),
                .checkNotExists(key: "p/a"),
            ])
        }
        #expect(failed?.kind == .transactionFailed)
        #expect(failed?.failures.map(\.operationIndex).contains(1) == true, "the stale check on p/state is named: \(String(describing: failed))")
        #expect(try await kv.get("p/c").value == nil, "nothing of a failed transaction is applied")

        let tooMany = await #expect(throws: KVError.self) {
            try await kv.transaction((0...kv.limits.maxTransactionOperations).map { .set(key: "many/\($0)", value: []) })
        }
        #expect(tooMany?.kind == .tooManyOperations)
        #expect(try await kv.list(prefix: "many/").value.isEmpty)
    }

    @Test("a blocking read returns when its key changes and keeps its index when the wait runs out", arguments: StoreBackend.allCases)
    func blockingRead(backend: StoreBackend) async throws {
        let store = try await TestStore.start(backend)
        defer { Task { await store.stop() } }
        let kv = store.kv
        try await kv.put("watched", value: [1])
        let first = try await kv.get("watched")

        try await kv.put("elsewhere", value: [9])
        let quiet = try await kv.get("watched", options: KVReadOptions(waitIndex: first.index, waitTime: .milliseconds(600)))
        #expect(quiet.index == first.index, "a change to another key does not wake the read")

        let waiting = Task { try await kv.get("watched", options: KVReadOptions(waitIndex: first.index, waitTime: .seconds(20))) }
        try await Task.sleep(for: .milliseconds(300))
        try await kv.put("watched", value: [2])
        let changed = try await waiting.value
        #expect(changed.value?.value == [2])
        #expect(changed.index > first.index)
    }

    @Test("a session's lock excludes others, guards writes and is released on destroy", arguments: StoreBackend.allCases)
    func sessionsAndLocks(backend: StoreBackend) async throws {
        let store = try await TestStore.start(backend)
        defer { Task { await store.stop() } }
        let kv = store.kv
        let first = try await kv.createSession(KVSessionOptions(name: "first", ttl: .seconds(60), lockDelay: .zero))
        let second = try await kv.createSession(KVSessionOptions(name: "second", ttl: .seconds(60), lockDelay: .zero))
        #expect(try await kv.acquire("lead", value: [1], session: first))
        #expect(try await kv.acquire("lead", value: [1], session: first), "the holder may take it again")
        #expect(!(try await kv.acquire("lead", value: [2], session: second)))
        #expect(try await kv.get("lead").value?.session == first)
        #expect(try await kv.renewSession(first))

        _ = try await kv.transaction([.checkSession(key: "lead", session: first), .set(key: "guarded", value: [1])])
        let refused = await #expect(throws: KVError.self) {
            try await kv.transaction([.checkSession(key: "lead", session: second), .set(key: "guarded", value: [2])])
        }
        #expect(refused?.kind == .transactionFailed)
        #expect(try await kv.get("guarded").value?.value == [1])

        try await kv.destroySession(first)
        #expect(!(try await kv.renewSession(first)), "a destroyed session cannot be renewed")
        #expect(try await kv.get("lead").value?.session == nil)
        #expect(try await kv.acquire("lead", value: [2], session: second))
        #expect(try await kv.release("lead", value: [], session: second))
        #expect(!(try await kv.release("lead", value: [], session: first)))
    }
}
