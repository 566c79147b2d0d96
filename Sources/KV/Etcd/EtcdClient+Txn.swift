extension EtcdClient {
    /// One etcd transaction: the guards become compares, the rest the success branch. The
    /// failure branch reads every compared key, so a rolled-back transaction names which
    /// guard failed and why, as Consul's does.
    public func transaction(_ operations: [KVOperation]) async throws(KVError) -> KVTransactionResult {
        let operation = "txn of \(operations.count) operations"
        guard !operations.isEmpty else { return KVTransactionResult(entries: [], index: 0) }
        try limits.check(operations, operation: operation)
        let plan = try EtcdTxnPlan(operations, operation: operation)
        guard plan.payloadBytes <= limits.maxTransactionBytes else {
            throw KVError(
                kind: .tooLarge, operation: operation,
                message: "request of \(plan.payloadBytes) bytes exceeds the transaction limit of \(limits.maxTransactionBytes)")
        }
        let response = try await call("/v3/kv/txn", plan.request, as: EtcdWire.TxnResponse.self, operation: operation)
        let revision = UInt64(max(response.header?.revision?.value ?? 0, 0))
        let results = response.responses ?? []
        guard response.succeeded == true else {
            let failures = plan.failures(observed: results.map { $0.range?.kvs?.first })
            throw KVError(
                kind: .transactionFailed, operation: operation, message: "rolled back",
                failures: failures.isEmpty ? [KVTransactionFailure(operationIndex: 0, reason: "a compare failed")] : failures)
        }
        var entries: [KVEntry] = []
        for (position, source) in plan.successSources.enumerated() {
            switch operations[source] {
            case .get:
                if position < results.count, let pair = results[position].range?.kvs?.first { entries.append(Self.entry(pair)) }
            case .set(let key, let value, _), .cas(let key, let value, _, _):
                entries.append(KVEntry(key: key, value: value, modifyIndex: revision))
            default:
                break
            }
        }
        return KVTransactionResult(entries: entries, index: revision)
    }
}

/// The etcd form of a list of KVOperations.
struct EtcdTxnPlan {
    private(set) var request = EtcdWire.TxnRequest(compare: [], success: [], failure: [])
    /// For each compare, the operation it came from and what it expected.
    private var guards: [(source: Int, operation: KVOperation)] = []
    /// For each success request, the operation it came from.
    private(set) var successSources: [Int] = []
    /// Keys and values, the part of the request etcd's size limit counts.
    private(set) var payloadBytes = 0

    init(_ operations: [KVOperation], operation: String) throws(KVError) {
        for (index, item) in operations.enumerated() {
            payloadBytes += item.key.utf8.count + 16
            switch item {
            case .set(let key, let value, let flags):
                try Self.refuseFlags(flags, key: key, operation: operation)
                addPut(key, value, from: index)
            case .cas(let key, let value, let expected, let flags):
                try Self.refuseFlags(flags, key: key, operation: operation)
                addGuard(EtcdCompare.modifyIndex(key: key, equals: expected), from: index, item)
                addPut(key, value, from: index)
            case .get(let key):
                request.success.append(EtcdWire.RequestOp(range: EtcdWire.RangeRequest(key: EtcdWire.Bytes(key))))
                successSources.append(index)
            case .delete(let key):
                addDelete(EtcdRange(key: key), from: index)
            case .deleteCAS(let key, let expected):
                addGuard(EtcdCompare.modifyIndex(key: key, equals: expected), from: index, item)
                addDelete(EtcdRange(key: key), from: index)
            case .deleteTree(let prefix):
                addDelete(EtcdRange(prefix: prefix), from: index)
            case .checkIndex(let key, let expected):
                addGuard(EtcdCompare.modifyIndex(key: key, equals: expected), from: index, item)
            case .checkNotExists(let key):
                addGuard(EtcdCompare.absent(key: key), from: index, item)
            case .checkSession(let key, let session):
                addGuard(EtcdCompare.lease(key: key, equals: try EtcdLease.lease(session, operation: operation)), from: index, item)
            case .lock(let key, _, _), .unlock(let key, _, _):
                throw KVError(
                    kind: .invalidRequest, operation: operation,
                    message: "locking \(key) inside a transaction is Consul-only; on etcd use acquire and release")
            }
        }
    }

    private static func refuseFlags(_ flags: UInt64, key: String, operation: String) throws(KVError) {
        guard flags != 0 else { return }
        throw KVError(kind: .invalidRequest, operation: operation, message: "\(key): etcd keys carry no flags")
    }

    private mutating func addPut(_ key: String, _ value: [UInt8], from index: Int) {
        payloadBytes += value.count
        request.success.append(EtcdWire.RequestOp(put: EtcdWire.PutRequest(key: EtcdWire.Bytes(key), value: EtcdWire.Bytes(value))))
        successSources.append(index)
    }

    private mutating func addDelete(_ range: EtcdRange, from index: Int) {
        request.success.append(
            EtcdWire.RequestOp(deleteRange: EtcdWire.DeleteRangeRequest(key: EtcdWire.Bytes(range.key), rangeEnd: range.end.map(EtcdWire.Bytes.init))))
        successSources.append(index)
    }

    private mutating func addGuard(_ compare: EtcdWire.Compare, from index: Int, _ operation: KVOperation) {
        request.compare.append(compare)
        request.failure.append(EtcdWire.RequestOp(range: EtcdWire.RangeRequest(key: compare.key)))
        guards.append((index, operation))
    }

    /// Which guards did not hold, judged from the keys as the failure branch read them.
    func failures(observed: [EtcdWire.KeyValue?]) -> [KVTransactionFailure] {
        guards.enumerated().compactMap { position, item in
            let current = position < observed.count ? observed[position] : nil
            let modify = UInt64(max(current?.modRevision?.value ?? 0, 0))
            let lease = current?.lease?.value ?? 0
            let reason: String?
            switch item.operation {
            case .cas(let key, _, let expected, _), .deleteCAS(let key, let expected), .checkIndex(let key, let expected):
                reason = modify == expected ? nil
                    : "\(key): modify index is \(modify == 0 ? "absent" : String(modify)), expected \(expected == 0 ? "absent" : String(expected))"
            case .checkNotExists(let key):
                reason = current == nil ? nil : "\(key): key exists"
            case .checkSession(let key, let session):
                let holder = lease == 0 ? "no session" : "session \(EtcdLease.sessionID(lease))"
                reason = lease != 0 && EtcdLease.sessionID(lease) == session ? nil : "\(key): lock is held by \(holder), not \(session)"
            default:
                reason = nil
            }
            return reason.map { KVTransactionFailure(operationIndex: item.source, reason: $0) }
        }
    }
}
