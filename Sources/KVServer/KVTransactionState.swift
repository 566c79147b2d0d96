import KV

/// The writes of one request or transaction, layered over the table without copying it, and
/// committed only when every operation succeeded. All writes share one index.
struct KVTransactionState {
    /// What lock operations need to know about sessions.
    struct Locks: Sendable {
        var sessionExists: @Sendable (String) -> Bool
        /// True while a key may not be acquired because its last holder's session ended.
        var isDelayed: @Sendable (String) -> Bool

        static let none = Locks(sessionExists: { _ in false }, isDelayed: { _ in false })
    }

    private let table: KVTable
    let index: UInt64
    private let locks: Locks
    private var overlay: [ByteKey: KVEntry?] = [:]
    private(set) var changedKeys: [String] = []

    init(table: KVTable, index: UInt64, locks: Locks = .none) {
        self.table = table
        self.index = index
        self.locks = locks
    }

    subscript(key: String) -> KVEntry? {
        if let written = overlay[ByteKey(key)] { return written }
        return table[key]
    }

    /// The changes to commit, in the order keys were first touched.
    var changes: [StateChange] {
        changedKeys.map { .key($0, overlay[ByteKey($0)] ?? nil) }
    }

    private mutating func write(_ key: String, _ entry: KVEntry?) {
        if overlay[ByteKey(key)] == nil { changedKeys.append(key) }
        overlay[ByteKey(key)] = .some(entry)
    }

    mutating func put(_ key: String, value: [UInt8], flags: UInt64, cas: UInt64?) -> Bool {
        let existing = self[key]
        if let cas {
            if cas == 0, existing != nil { return false }
            if cas != 0, existing?.modifyIndex != cas { return false }
        }
        write(key, KVEntry(
            key: key, value: value, flags: flags, createIndex: existing?.createIndex ?? index, modifyIndex: index,
            lockIndex: existing?.lockIndex ?? 0, session: existing?.session))
        return true
    }

    mutating func delete(_ key: String, cas: UInt64?) -> Bool {
        let existing = self[key]
        // Consul: with a cas index the key goes only if its modify index matches, so cas=0
        // never deletes an existing key (and "deletes" an absent one).
        if let cas, let existing, existing.modifyIndex != cas { return false }
        if existing != nil { write(key, nil) }
        return true
    }

    mutating func deleteTree(prefix: String) {
        var keys = Array(table.keys(prefix: prefix))
        keys += overlay.keys.map(\.string).filter { $0.hasKeyPrefix(prefix) }
        for key in keys where self[key] != nil { write(key, nil) }
    }

    enum LockOutcome: Equatable { case acquired, heldByOther, invalidSession }

    /// Consul's acquire: take the lock for `session` (or update the value when it already holds it).
    mutating func acquire(_ key: String, value: [UInt8], flags: UInt64, session: String) -> LockOutcome {
        guard locks.sessionExists(session) else { return .invalidSession }
        let existing = self[key]
        if let holder = existing?.session {
            guard holder == session else { return .heldByOther }
        } else if locks.isDelayed(key) {
            return .heldByOther
        }
        let alreadyHeld = existing?.session == session
        write(key, KVEntry(
            key: key, value: value, flags: flags, createIndex: existing?.createIndex ?? index, modifyIndex: index,
            lockIndex: (existing?.lockIndex ?? 0) + (alreadyHeld ? 0 : 1), session: session))
        return .acquired
    }

    /// Consul's release: only the holding session can release; the value is written too.
    mutating func release(_ key: String, value: [UInt8], flags: UInt64, session: String) -> Bool {
        guard let existing = self[key], existing.session == session else { return false }
        write(key, KVEntry(
            key: key, value: value, flags: flags, createIndex: existing.createIndex, modifyIndex: index,
            lockIndex: existing.lockIndex, session: nil))
        return true
    }

    /// Applies one transaction operation: the entry to return (if any), or why it failed.
    mutating func apply(_ operation: KVOperation) -> Result<KVEntry?, TransactionOperationFailure> {
        switch operation {
        case .set(let key, let value, let flags):
            _ = put(key, value: value, flags: flags, cas: nil)
            return .success(withoutValue(self[key]))
        case .cas(let key, let value, let expected, let flags):
            guard put(key, value: value, flags: flags, cas: expected) else {
                return .failure(.init("failed to set key \"\(key)\", index is stale"))
            }
            return .success(withoutValue(self[key]))
        case .get(let key):
            guard let entry = self[key] else { return .failure(.init("key \"\(key)\" doesn't exist")) }
            return .success(entry)
        case .delete(let key):
            _ = delete(key, cas: nil)
            return .success(nil)
        case .deleteCAS(let key, let expected):
            guard self[key] != nil, delete(key, cas: expected) else {
                return .failure(.init("failed to delete key \"\(key)\", index is stale"))
            }
            return .success(nil)
        case .deleteTree(let prefix):
            deleteTree(prefix: prefix)
            return .success(nil)
        case .checkIndex(let key, let expected):
            guard let entry = self[key] else { return .failure(.init("key \"\(key)\" doesn't exist")) }
            guard entry.modifyIndex == expected else {
                return .failure(.init("current modify index \(entry.modifyIndex) != \(expected)"))
            }
            return .success(withoutValue(entry))
        case .checkNotExists(let key):
            guard self[key] == nil else { return .failure(.init("key \"\(key)\" exists")) }
            return .success(nil)
        case .checkSession(let key, let session):
            guard let entry = self[key] else { return .failure(.init("key \"\(key)\" doesn't exist")) }
            guard entry.session == session, !session.isEmpty else {
                return .failure(.init("key \"\(key)\" is not locked by session \"\(session)\""))
            }
            return .success(withoutValue(entry))
        case .lock(let key, let value, let session):
            switch acquire(key, value: value, flags: self[key]?.flags ?? 0, session: session) {
            case .acquired: return .success(withoutValue(self[key]))
            case .heldByOther: return .failure(.init("failed to lock key \"\(key)\", lock is already held"))
            case .invalidSession: return .failure(.init("failed to lock key \"\(key)\", invalid session \"\(session)\""))
            }
        case .unlock(let key, let value, let session):
            guard release(key, value: value, flags: self[key]?.flags ?? 0, session: session) else {
                return .failure(.init("failed to unlock key \"\(key)\", lock isn't held, or is held by another session"))
            }
            return .success(withoutValue(self[key]))
        }
    }

    /// Runs one transaction operation: the entries it reports, or why it failed.
    mutating func apply(_ operation: ServerTxnOperation) -> Result<[KVEntry], TransactionOperationFailure> {
        switch operation {
        case .kv(let operation): return apply(operation).map { $0.map { [$0] } ?? [] }
        case .getTree(let prefix):
            var keys = Set(table.keys(prefix: prefix).map(ByteKey.init))
            keys.formUnion(overlay.keys.filter { $0.string.hasKeyPrefix(prefix) })
            return .success(keys.compactMap { self[$0.string] }.sorted { $0.key.sortsBefore($1.key) })
        case .getOrEmpty(let key):
            return .success([self[key] ?? KVEntry(key: key, value: [])])
        }
    }

    private func withoutValue(_ entry: KVEntry?) -> KVEntry? {
        guard var entry else { return nil }
        entry.value = []
        return entry
    }
}

struct TransactionOperationFailure: Error {
    let reason: String
    init(_ reason: String) { self.reason = reason }
}
