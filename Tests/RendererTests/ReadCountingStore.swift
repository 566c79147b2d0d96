import KV
import Synchronization

/// A store that passes everything through and counts the keys read with `get`, for tests of
/// how much a reader fetches.
final class ReadCountingStore: KVStore, Sendable {
    let inner: any KVStore
    private let reads = Mutex<[String]>([])
    private let puts = Mutex<(failNext: Int, written: [String])>((0, []))

    /// The next `count` puts fail as a store out of disk would.
    func failPuts(_ count: Int) { puts.withLock { $0.failNext = count } }
    var keysWritten: [String] { puts.withLock { $0.written } }

    init(_ inner: any KVStore) { self.inner = inner }

    var limits: KVLimits { inner.limits }
    var keysRead: [String] { reads.withLock { $0 } }
    func reset() { reads.withLock { $0 = [] } }

    func get(_ key: String, options: KVReadOptions) async throws(KVError) -> KVRead<KVEntry?> {
        reads.withLock { $0.append(key) }
        return try await inner.get(key, options: options)
    }

    func list(prefix: String, options: KVReadOptions) async throws(KVError) -> KVRead<[KVEntry]> { try await inner.list(prefix: prefix, options: options) }

    func keys(prefix: String, separator: String?, options: KVReadOptions) async throws(KVError) -> KVRead<[String]> {
        try await inner.keys(prefix: prefix, separator: separator, options: options)
    }

    func put(_ key: String, value: [UInt8], flags: UInt64, cas: UInt64?) async throws(KVError) -> Bool {
        let fail = puts.withLock { state in
            defer { state.failNext = max(0, state.failNext - 1) }
            return state.failNext > 0
        }
        if fail { throw KVError(kind: .serverError, operation: "put \(key)", message: "500 no space left on device", status: 500) }
        puts.withLock { $0.written.append(key) }
        return try await inner.put(key, value: value, flags: flags, cas: cas)
    }

    func delete(_ key: String, cas: UInt64?) async throws(KVError) -> Bool { try await inner.delete(key, cas: cas) }
    func deleteTree(prefix: String) async throws(KVError) { try await inner.deleteTree(prefix: prefix) }
    func transaction(_ operations: [KVOperation]) async throws(KVError) -> KVTransactionResult { try await inner.transaction(operations) }
}
