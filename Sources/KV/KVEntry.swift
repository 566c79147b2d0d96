/// One key and its value with Consul's bookkeeping (etcd maps its revisions onto the same fields).
public struct KVEntry: Sendable, Hashable {
    public var key: String
    public var value: [UInt8]
    public var flags: UInt64
    public var createIndex: UInt64
    public var modifyIndex: UInt64
    public var lockIndex: UInt64
    /// The session holding the key's lock, if any.
    public var session: String?

    public init(
        key: String, value: [UInt8], flags: UInt64 = 0, createIndex: UInt64 = 0, modifyIndex: UInt64 = 0,
        lockIndex: UInt64 = 0, session: String? = nil
    ) {
        self.key = key
        self.value = value
        self.flags = flags
        self.createIndex = createIndex
        self.modifyIndex = modifyIndex
        self.lockIndex = lockIndex
        self.session = session
    }
}

/// A read result with the index that a blocking query continues from.
public struct KVRead<Value: Sendable>: Sendable {
    public var value: Value
    /// X-Consul-Index (or etcd's revision): pass it back to block until something changes.
    public var index: UInt64
    public var knownLeader: Bool
    /// How long since the answering server heard from the leader (stale reads).
    public var lastContactMilliseconds: UInt64

    public init(value: Value, index: UInt64, knownLeader: Bool = true, lastContactMilliseconds: UInt64 = 0) {
        self.value = value
        self.index = index
        self.knownLeader = knownLeader
        self.lastContactMilliseconds = lastContactMilliseconds
    }
}

/// How a read is served.
public struct KVReadOptions: Sendable, Hashable {
    public enum Consistency: Sendable, Hashable {
        /// The leader answers, without an extra round of confirmation.
        case `default`
        /// The leader confirms it is still leader before answering.
        case consistent
        /// Any server answers, possibly behind; see `lastContactMilliseconds`.
        case stale
    }

    public var consistency: Consistency
    /// Block until the result's index exceeds this (never 0: a 0 index does not block).
    public var waitIndex: UInt64?
    /// Longest time to block.
    public var waitTime: Duration?

    public init(consistency: Consistency = .default, waitIndex: UInt64? = nil, waitTime: Duration? = nil) {
        self.consistency = consistency
        self.waitIndex = waitIndex
        self.waitTime = waitTime
    }

    public static let `default` = KVReadOptions()
}
