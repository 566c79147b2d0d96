import KV

extension ServerStore {
    func get(_ key: String) -> (entry: KVEntry?, index: UInt64) {
        (state.kv[key], state.kv.index(of: key, current: state.index))
    }

    func list(prefix: String) -> (entries: [KVEntry], index: UInt64) {
        (state.kv.entries(prefix: prefix), state.kv.index(ofPrefix: prefix, current: state.index))
    }

    private func transaction() -> KVTransactionState {
        let sessions = state.sessions
        let now = ContinuousClock.now
        let delays = lockDelays
        return KVTransactionState(
            table: state.kv, index: state.index + 1,
            locks: .init(
                sessionExists: { sessions[$0] != nil },
                isDelayed: { key in delays[key].map { now < $0 } ?? false }))
    }

    func put(_ key: String, value: [UInt8], flags: UInt64, cas: UInt64?) async -> Bool {
        var transaction = transaction()
        guard transaction.put(key, value: value, flags: flags, cas: cas) else { return false }
        await commit(transaction.changes)
        return true
    }

    func delete(_ key: String, cas: UInt64?) async -> Bool {
        var transaction = transaction()
        guard transaction.delete(key, cas: cas) else { return false }
        await commit(transaction.changes)
        return true
    }

    func deleteTree(prefix: String) async {
        var transaction = transaction()
        transaction.deleteTree(prefix: prefix)
        await commit(transaction.changes)
    }

    func acquire(_ key: String, value: [UInt8], flags: UInt64, session: String) async -> KVTransactionState.LockOutcome {
        var transaction = transaction()
        let outcome = transaction.acquire(key, value: value, flags: flags, session: session)
        if outcome == .acquired { await commit(transaction.changes) }
        return outcome
    }

    func release(_ key: String, value: [UInt8], flags: UInt64, session: String) async -> Bool {
        var transaction = transaction()
        guard transaction.release(key, value: value, flags: flags, session: session) else { return false }
        await commit(transaction.changes)
        return true
    }

    /// Applies every operation or none; returns the entries reads and writes report and the index.
    func apply(_ operations: [KVOperation]) async -> Result<(entries: [KVEntry], index: UInt64), TransactionRollback> {
        var transaction = transaction()
        var results: [KVEntry] = []
        var failures: [KVTransactionFailure] = []
        for (position, operation) in operations.enumerated() {
            switch transaction.apply(operation) {
            case .success(let entry): if let entry { results.append(entry) }
            case .failure(let failure): failures.append(KVTransactionFailure(operationIndex: position, reason: failure.reason))
            }
        }
        guard failures.isEmpty else { return .failure(TransactionRollback(failures: failures)) }
        let index = await commit(transaction.changes)
        return .success((results, index))
    }
}

/// The operations that made a transaction roll back.
struct TransactionRollback: Error {
    let failures: [KVTransactionFailure]
}
