import KV

/// One operation of `PUT /v1/txn` as kv-server runs it: the KV operations every store shares,
/// plus the read verbs only Consul's transaction endpoint has.
enum ServerTxnOperation: Sendable {
    case kv(KVOperation)
    /// Every key under a prefix, as the transaction sees it.
    case getTree(prefix: String)
    /// The key, or an empty entry (no value, zero indexes) when it does not exist.
    case getOrEmpty(key: String)

    var key: String {
        switch self {
        case .kv(let operation): operation.key
        case .getTree(let prefix): prefix
        case .getOrEmpty(let key): key
        }
    }
}
