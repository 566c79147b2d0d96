/// What git2kv needs from a key-value store. Consul, etcd and `git2kv kv-server` all fit.
public protocol KVStore: Sendable {
    /// The limits requests must respect (transactions are never split silently).
    var limits: KVLimits { get }

    /// One key; `value` nil when it does not exist. The index is returned either way.
    func get(_ key: String, options: KVReadOptions) async throws(KVError) -> KVRead<KVEntry?>

    /// Every key starting with `prefix`, sorted by key.
    func list(prefix: String, options: KVReadOptions) async throws(KVError) -> KVRead<[KVEntry]>

    /// Key names starting with `prefix`; with a separator, names are cut after it (one level).
    func keys(prefix: String, separator: String?, options: KVReadOptions) async throws(KVError) -> KVRead<[String]>

    /// Writes a value. With `cas`, only if the key's modify index equals it (0: only if absent).
    /// Returns false when the compare failed.
    func put(_ key: String, value: [UInt8], flags: UInt64, cas: UInt64?) async throws(KVError) -> Bool

    /// Deletes exactly one key. With `cas`, only if its modify index equals it.
    func delete(_ key: String, cas: UInt64?) async throws(KVError) -> Bool

    /// Deletes every key under `prefix`, which must end in `/` so that `app/` never takes `app2`.
    func deleteTree(prefix: String) async throws(KVError)

    /// Applies every operation or none. Fails with `.transactionFailed` naming the failing
    /// operations, and with `.tooManyOperations` or `.tooLarge` before sending anything over limits.
    func transaction(_ operations: [KVOperation]) async throws(KVError) -> KVTransactionResult

    /// An index that moves whenever any key under `prefix` (which ends in `/`) is written or
    /// deleted, read without transferring the keys; nil when the store cannot tell that cheaply.
    func changeIndex(under prefix: String) async throws(KVError) -> UInt64?
}

/// Size limits of a store.
public struct KVLimits: Sendable, Hashable {
    public var maxValueSize: Int
    public var maxTransactionOperations: Int
    public var maxTransactionBytes: Int

    public init(maxValueSize: Int, maxTransactionOperations: Int, maxTransactionBytes: Int) {
        self.maxValueSize = maxValueSize
        self.maxTransactionOperations = maxTransactionOperations
        self.maxTransactionBytes = maxTransactionBytes
    }

    /// Consul's defaults: 512 KiB values, 64 operations and 512 KiB per transaction.
    public static let consul = KVLimits(maxValueSize: 512 * 1024, maxTransactionOperations: 64, maxTransactionBytes: 512 * 1024)

    /// What every store refuses before sending a transaction: more operations than one may hold,
    /// and a recursive delete of a prefix without its `/` (it would take the prefix's siblings).
    func check(_ operations: [KVOperation], operation: String) throws(KVError) {
        guard operations.count <= maxTransactionOperations else {
            throw KVError(
                kind: .tooManyOperations, operation: operation,
                message: "a transaction holds at most \(maxTransactionOperations) operations; split it at a consistent point")
        }
        for case .deleteTree(let prefix) in operations where !prefix.hasSuffix("/") {
            throw KVError(kind: .invalidRequest, operation: operation, message: "delete-tree of \(prefix) needs a prefix ending in /")
        }
    }
}

extension KVStore {
    /// Stores that cannot say cheaply whether a prefix changed leave it to a key listing.
    public func changeIndex(under prefix: String) async throws(KVError) -> UInt64? { nil }

    public func get(_ key: String) async throws(KVError) -> KVRead<KVEntry?> {
        try await get(key, options: .default)
    }

    public func list(prefix: String) async throws(KVError) -> KVRead<[KVEntry]> {
        try await list(prefix: prefix, options: .default)
    }

    @discardableResult
    public func put(_ key: String, value: [UInt8], cas: UInt64? = nil) async throws(KVError) -> Bool {
        try await put(key, value: value, flags: 0, cas: cas)
    }

    @discardableResult
    public func delete(_ key: String) async throws(KVError) -> Bool {
        try await delete(key, cas: nil)
    }
}
