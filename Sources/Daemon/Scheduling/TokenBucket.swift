public import KV
public import Pipeline

/// The daemon-wide limit on KV write operations: `rate` per second, up to `burst` at once.
/// A transaction larger than what is left waits until the bucket refills; one larger than the
/// whole bucket waits for a full bucket and then takes it all (limits never split transactions).
public actor TokenBucket: KVWriteThrottle {
    private let rate: Double
    private let burst: Double
    private var tokens: Double
    private var updated: Duration
    private let clock: ServiceClock
    /// Operations admitted so far (for metrics and tests).
    public private(set) var admitted = 0

    public init(operationsPerSecond: Int, burst: Int, clock: ServiceClock = .continuous) {
        self.clock = clock
        rate = Double(operationsPerSecond)
        self.burst = Double(burst)
        tokens = Double(burst)
        updated = clock.now
    }

    public func admit(operations: Int) async throws(CancellationError) {
        let wanted = min(Double(operations), burst)
        while true {
            refill()
            if tokens >= wanted {
                tokens -= wanted
                admitted += operations
                return
            }
            let wait = (wanted - tokens) / rate
            do {
                try await clock.sleep(for: .milliseconds(max(1, Int((wait * 1000).rounded(.up)))))
            } catch {
                throw CancellationError()
            }
        }
    }

    private func refill() {
        let now = clock.now
        tokens = min(burst, tokens + (now - updated).inSeconds * rate)
        updated = now
    }
}
