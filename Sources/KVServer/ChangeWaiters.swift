/// What a blocking query waits on.
enum WatchTopic: Sendable {
    case key(String)
    case prefix(String)
    case catalog
    case sessions
}

/// What one commit changed, to wake the blocking queries it concerns.
struct ChangeSet: Sendable {
    var keys: Set<ByteKey> = []
    var catalog = false
    var sessions = false

    init() {}

    init(_ record: ChangeRecord) {
        for change in record.changes {
            switch change {
            case .key(let key, _): keys.insert(ByteKey(key))
            case .node: catalog = true
            case .session: sessions = true
            case .policy, .token: break
            }
        }
    }

    mutating func merge(_ other: ChangeSet) {
        keys.formUnion(other.keys)
        catalog = catalog || other.catalog
        sessions = sessions || other.sessions
    }

    var isEmpty: Bool { keys.isEmpty && !catalog && !sessions }

    func concerns(_ topic: WatchTopic) -> Bool {
        switch topic {
        case .key(let key): keys.contains(ByteKey(key))
        case .prefix(let prefix): keys.contains { $0.string.hasKeyPrefix(prefix) }
        case .catalog: catalog
        case .sessions: sessions
        }
    }
}

/// Blocking queries waiting for a change, each with the timer that ends its wait.
struct ChangeWaiters {
    private struct Waiter {
        let topic: WatchTopic
        let continuation: CheckedContinuation<Void, Never>
        let timer: Task<Void, Never>
    }

    private var waiters: [Int: Waiter] = [:]
    private var lastID = 0
    /// Counts the commits whose changes were announced. A query that took its answer at one
    /// count and registers at another has missed a wake-up, and answers again at once.
    private(set) var announced: UInt64 = 0

    var count: Int { waiters.count }

    mutating func nextID() -> Int {
        lastID += 1
        return lastID
    }

    mutating func add(id: Int, topic: WatchTopic, continuation: CheckedContinuation<Void, Never>, timer: Task<Void, Never>) {
        waiters[id] = Waiter(topic: topic, continuation: continuation, timer: timer)
    }

    /// Resumes one waiter (its deadline passed or its request was cancelled); a no-op if gone.
    mutating func resume(id: Int) {
        guard let waiter = waiters.removeValue(forKey: id) else { return }
        waiter.timer.cancel()
        waiter.continuation.resume()
    }

    mutating func resumeEveryone() {
        let all = waiters
        waiters = [:]
        for waiter in all.values {
            waiter.timer.cancel()
            waiter.continuation.resume()
        }
    }

    mutating func resumeAll(concernedBy changes: ChangeSet) {
        guard !changes.isEmpty else { return }
        announced &+= 1
        let woken = waiters.filter { changes.concerns($0.value.topic) }
        for (id, waiter) in woken {
            waiters[id] = nil
            waiter.timer.cancel()
            waiter.continuation.resume()
        }
    }
}
