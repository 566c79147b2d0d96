/// One operation of an atomic transaction (Consul's KV transaction verbs).
public enum KVOperation: Sendable, Hashable {
    case set(key: String, value: [UInt8], flags: UInt64 = 0)
    /// Set only if the key's modify index is `index` (0: only if it does not exist).
    case cas(key: String, value: [UInt8], index: UInt64, flags: UInt64 = 0)
    case get(key: String)
    case delete(key: String)
    /// Delete only if the key's modify index is `index`.
    case deleteCAS(key: String, index: UInt64)
    /// Delete every key under `prefix`, which must end in `/`.
    case deleteTree(prefix: String)
    /// Fail the transaction unless the key's modify index is `index`.
    case checkIndex(key: String, index: UInt64)
    /// Fail the transaction if the key exists.
    case checkNotExists(key: String)
    /// Fail the transaction unless `session` holds the lock on the key.
    case checkSession(key: String, session: String)
    case lock(key: String, value: [UInt8], session: String)
    case unlock(key: String, value: [UInt8], session: String)

    public var key: String {
        switch self {
        case .set(let key, _, _), .cas(let key, _, _, _), .get(let key), .delete(let key), .deleteCAS(let key, _),
            .checkIndex(let key, _), .checkNotExists(let key), .checkSession(let key, _), .lock(let key, _, _), .unlock(let key, _, _):
            key
        case .deleteTree(let prefix): prefix
        }
    }

    /// True for operations that change the store.
    public var isWrite: Bool {
        switch self {
        case .get, .checkIndex, .checkNotExists, .checkSession: false
        default: true
        }
    }
}

/// Why a transaction was rolled back: which operation and what was wrong.
public struct KVTransactionFailure: Sendable, Hashable, CustomStringConvertible {
    /// Position of the failing operation in the request.
    public var operationIndex: Int
    public var reason: String

    public init(operationIndex: Int, reason: String) {
        self.operationIndex = operationIndex
        self.reason = reason
    }

    public var description: String { "operation \(operationIndex): \(reason)" }
}

/// The outcome of a committed transaction.
public struct KVTransactionResult: Sendable, Hashable {
    /// Entries returned by reads and writes, in request order (deletes and checks return none).
    public var entries: [KVEntry]
    /// The index at which the transaction was applied.
    public var index: UInt64

    public init(entries: [KVEntry], index: UInt64) {
        self.entries = entries
        self.index = index
    }
}
