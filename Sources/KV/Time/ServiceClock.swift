/// The clock a long-running part schedules with: time elapsed since the clock was made, and
/// sleeping. Production code passes `ContinuousClock`; tests pass a manual clock and move it,
/// so debounce, backoff, renewal and polling are tested without waiting.
public struct ServiceClock: Sendable {
    private let elapsed: @Sendable () -> Duration
    private let sleeper: @Sendable (Duration) async throws -> Void

    public init<C: Clock>(_ clock: C) where C.Duration == Duration {
        let origin = clock.now
        elapsed = { origin.duration(to: clock.now) }
        sleeper = { offset in try await clock.sleep(until: origin.advanced(by: offset), tolerance: nil) }
    }

    public static var continuous: ServiceClock { ServiceClock(ContinuousClock()) }

    /// Time since this clock was made; only differences between two readings mean anything.
    public var now: Duration { elapsed() }

    /// Sleeps until `now` reaches `deadline`; throws CancellationError when the task is cancelled.
    public func sleep(until deadline: Duration) async throws {
        try await sleeper(deadline)
    }

    public func sleep(for duration: Duration) async throws {
        try await sleeper(now + duration)
    }
}
