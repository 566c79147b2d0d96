/// When a leader renews its session and when it must give up: renew every third of the TTL;
/// a renewal that fails (KV unreachable) is retried at the same pace, and once a whole TTL has
/// passed since the last good renewal the session may be gone, so the leader steps down.
/// Times are offsets on the election's clock.
struct LeaseRenewal: Sendable, Equatable {
    let ttl: Duration
    private(set) var lastRenewal: Duration
    private(set) var lastAttempt: Duration

    init(ttl: Duration, renewedAt now: Duration) {
        self.ttl = ttl
        lastRenewal = now
        lastAttempt = now
    }

    var interval: Duration { ttl / 3 }

    /// When to try the next renewal.
    var nextAttempt: Duration { lastAttempt + interval }

    mutating func renewed(at now: Duration) {
        lastRenewal = now
        lastAttempt = now
    }

    /// Records a failed renewal; true while leadership may be kept.
    mutating func failed(at now: Duration) -> Bool {
        lastAttempt = now
        return now - lastRenewal < ttl
    }
}
