import KV

/// The embedded server's data: keys with Consul's indexes, tombstones so that prefix indexes
/// never go backwards after deletes, and the blocking queries waiting for a change.
actor KVStateStore {
    private(set) var entries: [String: KVEntry] = [:]
    private var tombstones: [String: UInt64] = [:]
    /// The index of the last write (Consul's raft index for the KV table).
    private(set) var index: UInt64 = 1
    private var waiters = ChangeWaiters()

    // MARK: Reads

    func get(_ key: String) -> (entry: KVEntry?, index: UInt64) {
        if let entry = entries[key] { return (entry, entry.modifyIndex) }
        return (nil, tombstones[key] ?? index)
    }

    func list(prefix: String) -> (entries: [KVEntry], index: UInt64) {
        let matches = entries.values.filter { $0.key.hasPrefix(prefix) }.sorted { $0.key < $1.key }
        let highest = max(
            matches.map(\.modifyIndex).max() ?? 0,
            tombstones.filter { $0.key.hasPrefix(prefix) }.map(\.value).max() ?? 0)
        return (matches, highest == 0 ? index : highest)
    }

    /// Suspends until a key matching `key` (exactly, or as a prefix) changes, or the deadline passes.
    func waitForChange(of key: String, prefix: Bool, until deadline: ContinuousClock.Instant) async {
        let id = waiters.nextID()
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                waiters.add(id: id, key: key, prefix: prefix, continuation: continuation)
                Task { [weak self] in
                    try? await Task.sleep(until: deadline, clock: .continuous)
                    await self?.expire(id)
                }
            }
        } onCancel: {
            Task { [weak self] in await self?.expire(id) }
        }
    }

    private func expire(_ id: Int) {
        waiters.resume(id: id)
    }

    // MARK: Writes

    func put(_ key: String, value: [UInt8], flags: UInt64, cas: UInt64?) -> Bool {
        var transaction = KVTransactionState(entries: entries, index: index + 1)
        guard transaction.put(key, value: value, flags: flags, cas: cas) else { return false }
        commit(transaction)
        return true
    }

    func delete(_ key: String, cas: UInt64?) -> Bool {
        var transaction = KVTransactionState(entries: entries, index: index + 1)
        guard transaction.delete(key, cas: cas) else { return false }
        commit(transaction)
        return true
    }

    func deleteTree(prefix: String) {
        var transaction = KVTransactionState(entries: entries, index: index + 1)
        transaction.deleteTree(prefix: prefix)
        commit(transaction)
    }

    /// Applies every operation or none.
    func apply(_ operations: [KVOperation]) -> Result<[KVEntry], TransactionRollback> {
        var transaction = KVTransactionState(entries: entries, index: index + 1)
        var results: [KVEntry] = []
        var failures: [KVTransactionFailure] = []
        for (position, operation) in operations.enumerated() {
            switch transaction.apply(operation) {
            case .success(let entry): if let entry { results.append(entry) }
            case .failure(let failure): failures.append(KVTransactionFailure(operationIndex: position, reason: failure.reason))
            }
        }
        guard failures.isEmpty else { return .failure(TransactionRollback(failures: failures)) }
        if !transaction.changedKeys.isEmpty { commit(transaction) }
        return .success(results)
    }

    private func commit(_ transaction: KVTransactionState) {
        guard !transaction.changedKeys.isEmpty else { return }
        entries = transaction.entries
        index = transaction.index
        for key in transaction.changedKeys where entries[key] == nil {
            tombstones[key] = index
        }
        for key in transaction.changedKeys where entries[key] != nil {
            tombstones[key] = nil
        }
        waiters.resumeAll(affectedBy: transaction.changedKeys)
    }
}

/// The operations that made a transaction roll back.
struct TransactionRollback: Error {
    let failures: [KVTransactionFailure]
}
