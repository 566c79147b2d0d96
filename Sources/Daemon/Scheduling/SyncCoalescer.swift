/// Per key (a repo's branch, or its tags): at most one sync running and one queued. A request
/// while one runs marks it queued; further requests fold into that queued one, which starts as
/// soon as the running one ends and sees everything pushed before it started.
struct SyncCoalescer<Key: Hashable & Sendable>: Sendable {
    enum Decision: Equatable {
        /// Nothing was running: start a sync now.
        case start
        /// One is running: a follow-up is now queued.
        case queued
        /// One is running and one already queued: this request is covered by it.
        case coalesced
    }

    private var running: Set<Key> = []
    private var queued: Set<Key> = []

    mutating func request(_ key: Key) -> Decision {
        if !running.contains(key) {
            running.insert(key)
            return .start
        }
        return queued.insert(key).inserted ? .queued : .coalesced
    }

    /// Called when a sync of `key` ends: true when a queued one should start now.
    mutating func finished(_ key: Key) -> Bool {
        if queued.remove(key) != nil { return true }
        running.remove(key)
        return false
    }

    var isIdle: Bool { running.isEmpty }

    /// Forgets `key` entirely (its sync was cancelled).
    mutating func clear(_ key: Key) {
        running.remove(key)
        queued.remove(key)
    }

    mutating func dropQueued() { queued.removeAll() }
}
