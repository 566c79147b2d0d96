import KV
import Synchronization

/// What moved in the catalog (or around it), as the hosts generator's watches report it.
enum CatalogUpdate: Sendable {
    case services([String: [String]], index: UInt64)
    case failing(state: String, [CatalogCheck])
    case nodes([CatalogNodeEntry])
    /// The stop key was set or deleted.
    case stopKey
    /// `refresh` passed: read the listings again and compare.
    case refresh
    case watchFailed(what: String, KVError, retryIn: Duration)
}

/// Updates gathered from several watches: each watch adds its own as it comes, and the
/// generator takes all of them at once when it is ready, so a burst becomes one publish.
final class CatalogUpdates: Sendable {
    private let pending = Mutex<[CatalogUpdate]>([])
    private let signal = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))

    func add(_ update: CatalogUpdate) {
        pending.withLock { $0.append(update) }
        signal.continuation.yield()
    }

    /// Yields after something was added (at most one waiting signal, however many updates).
    var signals: AsyncStream<Void> { signal.stream }

    /// Everything added since the last call.
    func take() -> [CatalogUpdate] {
        pending.withLock { list in
            defer { list = [] }
            return list
        }
    }

    func finish() { signal.continuation.finish() }
}
