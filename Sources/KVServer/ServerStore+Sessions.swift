import Foundation
import KV

extension ServerStore {
    func createSession(name: String, node: String, behavior: SessionRecord.Behavior, lockDelay: Duration, ttl: String) async throws(StorageError) -> SessionRecord {
        let index = state.index + 1
        let session = SessionRecord(
            id: UUID().uuidString.lowercased(), name: name, node: node, behavior: behavior,
            lockDelayNanoseconds: lockDelay.nanosecondsValue, ttl: ttl, createIndex: index, modifyIndex: index)
        try await commit([.session(session.id, session)])
        scheduleExpiry(of: session)
        return session
    }

    func session(_ id: String) -> SessionRecord? { state.sessions[id] }

    var sessionsIndex: UInt64 { state.sessionsIndex }

    var sessions: [SessionRecord] { state.sessions.values.sorted { $0.createIndex < $1.createIndex } }

    /// Restarts the session's TTL clock; nil when the session does not exist (any more).
    func renewSession(_ id: String) -> SessionRecord? {
        guard let session = state.sessions[id] else { return nil }
        scheduleExpiry(of: session)
        return session
    }

    /// Ends a session: its locks are released (or their keys deleted), and the keys stay
    /// unacquirable for the session's lock delay.
    func destroySession(_ id: String) async throws(StorageError) {
        sessionTimers.removeValue(forKey: id)?.cancel()
        guard let session = state.sessions[id] else { return }
        let index = state.index + 1
        var changes: [StateChange] = [.session(id, nil)]
        let now = clock.now
        lockDelays = lockDelays.filter { $0.value > now }
        let delayEnd = now + .nanoseconds(session.lockDelayNanoseconds)
        for entry in state.kv.entries(prefix: "") where entry.session == id {
            if session.behavior == .delete {
                changes.append(.key(entry.key, nil))
            } else {
                var released = entry
                released.session = nil
                released.modifyIndex = index
                changes.append(.key(entry.key, released))
            }
            if session.lockDelayNanoseconds > 0 { lockDelays[ByteKey(entry.key)] = delayEnd }
        }
        try await commit(changes)
    }

    func scheduleExpiry(of session: SessionRecord) {
        sessionTimers.removeValue(forKey: session.id)?.cancel()
        guard let ttl = session.ttlDuration else { return }
        let id = session.id
        let clock = clock
        let deadline = clock.now + ttl
        sessionTimers[id] = Task { [weak self] in
            do {
                try await clock.sleep(until: deadline)
            } catch {
                return
            }
            await self?.expireSession(id)
        }
    }

    private func expireSession(_ id: String) async {
        sessionTimers[id] = nil
        // Refused by a full disk: the session stays (its clock restarts) and expires on a later try.
        try? await destroySession(id)
    }
}
