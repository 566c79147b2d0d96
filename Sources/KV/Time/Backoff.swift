/// Exponential backoff with jitter: after n consecutive failures the delay is drawn from
/// [cap/2, cap] where cap = min(maximum, initial × 2^(n-1)), so retries spread out but never
/// come sooner than half the cap or later than `maximum`.
public struct Backoff: Sendable, Hashable {
    public var initial: Duration
    public var maximum: Duration

    public init(initial: Duration = .seconds(1), maximum: Duration = .seconds(60)) {
        self.initial = initial
        self.maximum = maximum
    }

    /// The largest delay after `failures` consecutive failures.
    public func cap(afterFailures failures: Int) -> Duration {
        guard failures > 0 else { return .zero }
        var cap = initial
        for _ in 1..<min(failures, 63) {
            cap = cap * 2
            if cap >= maximum { return maximum }
        }
        return min(cap, maximum)
    }

    public func delay(afterFailures failures: Int) -> Duration {
        let cap = cap(afterFailures: failures)
        return cap / 2 + cap / 2 * Double.random(in: 0...1)
    }
}
