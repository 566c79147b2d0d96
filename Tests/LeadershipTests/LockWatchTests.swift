import KV
@testable import Leadership
import Logging
import StoreFixtures
import Synchronization
import Testing
import TestFixtures

/// A leader watches its own lock key with a blocking query: losing the lock ends leadership at
/// once, not at the next renewal. The clock here never moves, so no renewal happens at all.
@Suite("leader's lock watch", .serialized)
struct LockWatchTests {
    @Test("a leader whose lock key is deleted steps down before any renewal", arguments: StoreBackend.allCases)
    func deletedLock(backend: StoreBackend) async throws {
        let store = try await TestStore.start(backend)
        defer { Task { await store.stop() } }
        let changes = Mutex<[LeaderLock?]>([])
        var logger = Logger(label: "test.leadership")
        logger.logLevel = .critical
        let election = LeaderElection(
            role: "test", lockKey: "t/lock", kv: store.kv, ttl: .seconds(30), lockDelay: .zero, clock: ServiceClock(ManualClock()), logger: logger
        ) { lock in changes.withLock { $0.append(lock) } }
        let task = Task { await election.run() }
        try await eventually("leading") { await election.lock != nil }
        _ = try await store.kv.delete("t/lock", cas: nil)
        try await eventually("stepped down") { changes.withLock { $0.count >= 2 && $0[1] == nil } }
        task.cancel()
        await task.value
    }
}
