import KV

extension ServerStore {
    func get(_ key: String) -> (entry: KVEntry?, index: UInt64) {
        (state.kv[key], state.kv.index(of: key, current: state.index))
    }

    func list(prefix: String) -> (entries: [KVEntry], index: UInt64) {
        (state.kv.entries(prefix: prefix), state.kv.index(ofPrefix: prefix, current: state.index))
    }

    /// Runs `plan` on a transaction over the current state and returns what it decided. The
    /// transaction is gone once this returns, so committing its changes mutates the table in
    /// place instead of copying every entry (the transaction shares the table's storage).
    private func planned<Outcome>(_ plan: (inout KVTransactionState) -> Outcome) -> (outcome: Outcome, changes: [StateChange]) {
        let sessions = state.sessions
        let now = clock.now
        let delays = lockDelays
        var transaction = KVTransactionState(
            table: state.kv, index: state.index + 1,
            locks: .init(
                sessionExists: { sessions[$0] != nil },
                isDelayed: { key in delays[ByteKey(key)].map { now < $0 } ?? false }))
        let outcome = plan(&transaction)
        return (outcome, transaction.changes)
    }

    func put(_ key: String, value: [UInt8], flags: UInt64, cas: UInt64?) async throws(StorageError) -> Bool {
        let (written, changes) = planned { $0.put(key, value: value, flags: flags, cas: cas) }
        guard written else { return false }
        try await commit(changes)
        return true
    }

    func delete(_ key: String, cas: UInt64?) async throws(StorageError) -> Bool {
        let (deleted, changes) = planned { $0.delete(key, cas: cas) }
        guard deleted else { return false }
        try await commit(changes)
        return true
    }

    func deleteTree(prefix: String) async throws(StorageError) {
        let (_, changes) = planned { $0.deleteTree(prefix: prefix) }
        try await commit(changes)
    }

    func acquire(_ key: String, value: [UInt8], flags: UInt64, session: String) async throws(StorageError) -> KVTransactionState.LockOutcome {
        let (outcome, changes) = planned { $0.acquire(key, value: value, flags: flags, session: session) }
        if outcome == .acquired { try await commit(changes) }
        return outcome
    }

    func release(_ key: String, value: [UInt8], flags: UInt64, session: String) async throws(StorageError) -> Bool {
        let (released, changes) = planned { $0.release(key, value: value, flags: flags, session: session) }
        guard released else { return false }
        try await commit(changes)
        return true
    }

    /// Applies every operation or none; returns the entries reads and writes report and the index.
    func apply(_ operations: [ServerTxnOperation]) async throws(StorageError) -> Result<(entries: [KVEntry], index: UInt64), TransactionRollback> {
        let ((results, failures), changes) = planned { transaction in
            var results: [KVEntry] = []
            var failures: [KVTransactionFailure] = []
            for (position, operation) in operations.enumerated() {
                switch transaction.apply(operation) {
                case .success(let entries): results += entries
                case .failure(let failure): failures.append(KVTransactionFailure(operationIndex: position, reason: failure.reason))
                }
            }
            return (results, failures)
        }
        guard failures.isEmpty else { return .failure(TransactionRollback(failures: failures)) }
        let index = try await commit(changes)
        return .success((results, index))
    }
}

/// The operations that made a transaction roll back.
struct TransactionRollback: Error {
    let failures: [KVTransactionFailure]
}
