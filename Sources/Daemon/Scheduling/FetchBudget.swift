/// How often `serve` may fetch one repo (`repos[].fetch_limit`): bursts of up to `burst`
/// fetches go at once, beyond that one per `every`. A flood of webhooks (replayed or real) costs
/// the git server a bounded rate, and ordinary pushes never wait. Times are clock offsets.
struct FetchBudget: Sendable {
    let every: Duration
    let burst: Int
    private var tokens: Double
    private var updated: Duration

    init(every: Duration, burst: Int, now: Duration) {
        self.every = every
        self.burst = max(1, burst)
        tokens = Double(self.burst)
        updated = now
    }

    /// Takes one fetch from the budget: nil when it may start now, else when it may start (the
    /// budget is reserved, so later callers queue behind).
    mutating func reserve(at now: Duration) -> Duration? {
        if now > updated, every > .zero {
            tokens = min(Double(burst), tokens + (now - updated) / every)
            updated = now
        }
        tokens -= 1
        if tokens >= 0 || every == .zero { return nil }
        return now + every * (-tokens)
    }
}
