import Foundation

extension ConsulClient {
    public func transaction(_ operations: [KVOperation]) async throws(KVError) -> KVTransactionResult {
        let operation = "txn of \(operations.count) operations"
        guard !operations.isEmpty else { return KVTransactionResult(entries: [], index: 0) }
        try limits.check(operations, operation: operation)
        let body: [UInt8]
        do {
            // Base64 values hold `/`; escaped as `\/` they would outgrow what the packer counted.
            let encoder = JSONEncoder()
            encoder.outputFormatting = .withoutEscapingSlashes
            body = Array(try encoder.encode(operations.map(ConsulWire.txnOperation)))
        } catch {
            throw KVError(kind: .invalidRequest, operation: operation, message: "cannot encode: \(error)")
        }
        guard body.count <= limits.maxTransactionBytes else {
            throw KVError(
                kind: .tooLarge, operation: operation,
                message: "request of \(body.count) bytes exceeds the transaction limit of \(limits.maxTransactionBytes)")
        }
        let reply = try await send(.PUT, path: "/v1/txn", body: body, operation: operation)
        switch reply.status {
        case 200:
            let response = try decode(ConsulWire.TxnResponse.self, reply, operation: operation)
            var entries: [KVEntry] = []
            for result in response.results ?? [] {
                if let pair = result.kv { entries.append(try pair.entry()) }
            }
            return KVTransactionResult(entries: entries, index: max(reply.index, entries.map(\.modifyIndex).max() ?? 0))
        case 409:
            let response = try decode(ConsulWire.TxnResponse.self, reply, operation: operation)
            let failures = (response.errors ?? []).map { error in
                let target = operations.indices.contains(error.opIndex)
                    ? "\(ConsulWire.txnOperation(operations[error.opIndex]).kv?.verb ?? "?") \(operations[error.opIndex].key): " : ""
                return KVTransactionFailure(operationIndex: error.opIndex, reason: target + error.what)
            }
            let denied = failures.contains { $0.reason.lowercased().contains("permission denied") }
            throw KVError(
                kind: denied ? .permissionDenied : .transactionFailed, operation: operation,
                message: denied ? "permission denied, rolled back" : "rolled back", failures: failures, status: 409)
        default:
            throw failure(reply, operation: operation)
        }
    }
}
