/// Packs operations into as few transactions as the store's limits allow (operations per
/// transaction and bytes per request, values counted as base64), never splitting silently:
/// every transaction after the first repeats the guards, and `last` goes in the last one.
public struct TransactionPacker: Sendable {
    /// JSON framing of a request and margin for the guard.
    public static let requestOverhead = 4096
    /// JSON framing of one operation besides its key and value.
    public static let operationOverhead = 96

    public let limits: KVLimits

    public init(limits: KVLimits) {
        self.limits = limits
    }

    /// The largest value one transaction can carry under `limits` (values travel as base64);
    /// a bundle value over it is chunked.
    public static func largestValue(_ limits: KVLimits) -> Int {
        min(limits.maxValueSize, (limits.maxTransactionBytes - requestOverhead) / 4 * 3)
    }

    public static func estimatedSize(_ operation: KVOperation) -> Int {
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
    public func pack(_ operations: [KVOperation], guards: [KVOperation], last: KVOperation?) -> [[KVOperation]] {
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
