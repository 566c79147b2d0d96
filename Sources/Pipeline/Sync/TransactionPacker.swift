import Foundation
import KV

/// Packs operations into as few transactions as the store's limits allow (operations per
/// transaction and bytes per request, values counted as base64), never splitting silently:
/// every transaction after the first repeats the guards, and `last` goes in the last one.
struct TransactionPacker: Sendable {
    /// JSON framing of a request and margin for the guard.
    static let requestOverhead = 4096
    /// JSON framing of one operation besides its key and value.
    static let operationOverhead = 96

    let limits: KVLimits

    static func estimatedSize(_ operation: KVOperation) -> Int {
        let valueBytes: Int
        switch operation {
        case .set(_, let value, _), .cas(_, let value, _, _), .lock(_, let value, _), .unlock(_, let value, _):
            valueBytes = (value.count + 2) / 3 * 4
        default:
            valueBytes = 0
        }
        return operation.key.utf8.count + valueBytes + operationOverhead
    }

    /// Groups `operations` (plus `last` at the very end) into transactions, each starting with
    /// the `guards`.
    func pack(_ operations: [KVOperation], guards: [KVOperation], last: KVOperation?) -> [[KVOperation]] {
        let byteBudget = limits.maxTransactionBytes - Self.requestOverhead
        let guardCost = guards.reduce(0) { $0 + Self.estimatedSize($1) }
        var transactions: [[KVOperation]] = []
        var current: [KVOperation] = []
        var currentBytes = 0
        func startTransaction() {
            current = guards
            currentBytes = guardCost
        }
        startTransaction()
        let all = operations + (last.map { [$0] } ?? [])
        for operation in all {
            let size = Self.estimatedSize(operation)
            let holdsWork = current.count > guards.count
            if holdsWork, current.count + 1 > limits.maxTransactionOperations || currentBytes + size > byteBudget {
                transactions.append(current)
                startTransaction()
            }
            current.append(operation)
            currentBytes += size
        }
        if current.count > guards.count { transactions.append(current) }
        return transactions
    }
}
