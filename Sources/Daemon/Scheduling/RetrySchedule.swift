import KV

/// When to try a failed sync again: one schedule per trigger, so a failure that repeats on
/// every attempt (and every poll) never starts a second chain of retries. The delay grows
/// exponentially with jitter and is capped at the poll interval. Times are clock offsets.
struct RetrySchedule<Key: Hashable & Sendable>: Sendable {
    let backoff: Backoff
    private var failures: [Key: Int] = [:]
    private var pending: [Key: Duration] = [:]

    init(initial: Duration = .seconds(1), pollInterval: Duration) {
        backoff = Backoff(initial: min(initial, pollInterval), maximum: pollInterval)
    }

    /// Records a failure; returns when to retry, or nil when a retry is already pending.
    /// `jitter` in 0...1 picks the delay within [cap/2, cap].
    mutating func failed(_ key: Key, at now: Duration, jitter: Double) -> Duration? {
        let count = (failures[key] ?? 0) + 1
        failures[key] = count
        guard pending[key] == nil else { return nil }
        let cap = backoff.cap(afterFailures: count)
        let deadline = now + cap / 2 + cap / 2 * min(max(jitter, 0), 1)
        pending[key] = deadline
        return deadline
    }

    /// The pending retry of `key` is starting.
    mutating func fired(_ key: Key) {
        pending[key] = nil
    }

    /// A sync of `key` succeeded: the next failure starts from the shortest delay again.
    mutating func succeeded(_ key: Key) {
        failures[key] = nil
    }

    func consecutiveFailures(_ key: Key) -> Int { failures[key] ?? 0 }
    func retryPending(_ key: Key) -> Bool { pending[key] != nil }
}

/// When the next poll is due: every interval with ±10 % jitter, so replicas and repos that
/// started together spread out. `jitter` in -1...1.
enum PollSchedule {
    static func next(after now: Duration, interval: Duration, jitter: Double) -> Duration {
        now + interval + interval / 10 * min(max(jitter, -1), 1)
    }
}
