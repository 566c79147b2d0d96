/// The index a blocking query continues from, with Consul's rules: an unchanged index means
/// the wait ran out (nothing to report); an index that goes backwards (a snapshot restore, a
/// new leader) or is 0 resets to 0, so the next read does not block and starts over.
public struct WatchIndex: Sendable, Hashable {
    public private(set) var current: UInt64 = 0
    private var hasResult = false

    public init() {}

    /// The wait index for the next query; nil means "do not block" (0 is never sent).
    public var waitIndex: UInt64? { current == 0 ? nil : current }

    /// After a failed query: the server may have been replaced (restarted empty, restored from a
    /// snapshot) and may not reach the old index for a whole wait, so the next query does not
    /// block, and its answer is news whatever its index.
    public mutating func forget() {
        current = 0
        hasResult = false
    }

    /// Takes the index of an answer and says whether the answer is news.
    public mutating func advance(to returned: UInt64) -> Bool {
        defer { hasResult = true }
        if returned == 0 || returned < current {
            current = 0
            return true
        }
        if returned == current, hasResult { return false }
        current = returned
        return true
    }
}
