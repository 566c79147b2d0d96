import KV

/// A working copy of the data that a write or transaction changes; committed only when
/// every operation succeeded. All writes of one transaction share one index.
struct KVTransactionState {
    var entries: [String: KVEntry]
    let index: UInt64
    private(set) var changedKeys: Set<String> = []

    init(entries: [String: KVEntry], index: UInt64) {
        self.entries = entries
        self.index = index
    }

    mutating func put(_ key: String, value: [UInt8], flags: UInt64, cas: UInt64?) -> Bool {
        let existing = entries[key]
        if let cas {
            if cas == 0, existing != nil { return false }
            if cas != 0, existing?.modifyIndex != cas { return false }
        }
        entries[key] = KVEntry(
            key: key, value: value, flags: flags, createIndex: existing?.createIndex ?? index, modifyIndex: index,
            lockIndex: existing?.lockIndex ?? 0, session: existing?.session)
        changedKeys.insert(key)
        return true
    }

    mutating func delete(_ key: String, cas: UInt64?) -> Bool {
        if let cas, cas != 0, entries[key]?.modifyIndex != cas { return false }
        if entries.removeValue(forKey: key) != nil { changedKeys.insert(key) }
        return true
    }

    mutating func deleteTree(prefix: String) {
        for key in entries.keys where key.hasPrefix(prefix) {
            entries[key] = nil
            changedKeys.insert(key)
        }
    }

    /// Applies one transaction operation: the entry to return (if any), or why it failed.
    mutating func apply(_ operation: KVOperation) -> Result<KVEntry?, TransactionOperationFailure> {
        switch operation {
        case .set(let key, let value, let flags):
            _ = put(key, value: value, flags: flags, cas: nil)
            return .success(withoutValue(entries[key]))
        case .cas(let key, let value, let expected, let flags):
            guard put(key, value: value, flags: flags, cas: expected) else {
                return .failure(.init("failed to set key \"\(key)\", index is stale"))
            }
            return .success(withoutValue(entries[key]))
        case .get(let key):
            guard let entry = entries[key] else { return .failure(.init("key \"\(key)\" doesn't exist")) }
            return .success(entry)
        case .delete(let key):
            _ = delete(key, cas: nil)
            return .success(nil)
        case .deleteCAS(let key, let expected):
            guard entries[key] != nil, delete(key, cas: expected) else {
                return .failure(.init("failed to delete key \"\(key)\", index is stale"))
            }
            return .success(nil)
        case .deleteTree(let prefix):
            deleteTree(prefix: prefix)
            return .success(nil)
        case .checkIndex(let key, let expected):
            guard let entry = entries[key] else { return .failure(.init("key \"\(key)\" doesn't exist")) }
            guard entry.modifyIndex == expected else {
                return .failure(.init("current modify index \(entry.modifyIndex) != \(expected)"))
            }
            return .success(withoutValue(entry))
        case .checkNotExists(let key):
            guard entries[key] == nil else { return .failure(.init("key \"\(key)\" exists")) }
            return .success(nil)
        case .lock, .unlock:
            return .failure(.init("sessions are not supported by this server yet"))
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
