/// How a watch queries: long blocking waits with jitter so a fleet does not query in step, a
/// minimum spacing between queries so a flapping key cannot make a node hammer the cluster,
/// and backoff with jitter after errors.
public struct WatchPolicy: Sendable, Hashable {
    public var waitTime: Duration
    /// Each query waits between waitTime × (1 − waitJitter) and waitTime.
    public var waitJitter: Double
    public var minimumSpacing: Duration
    public var backoff: Backoff
    public var consistency: KVReadOptions.Consistency

    public init(
        waitTime: Duration = .seconds(300), waitJitter: Double = 0.1, minimumSpacing: Duration = .milliseconds(250),
        backoff: Backoff = Backoff(), consistency: KVReadOptions.Consistency = .default
    ) {
        self.waitTime = waitTime
        self.waitJitter = waitJitter
        self.minimumSpacing = minimumSpacing
        self.backoff = backoff
        self.consistency = consistency
    }

    func jitteredWait() -> Duration {
        waitTime * (1 - waitJitter * Double.random(in: 0...1))
    }
}

/// What a watch reports: a new answer, an answer with nothing new (a blocking query that ran to
/// its wait: the store is there), or a failed query and when it will retry.
public enum WatchUpdate<Value: Sendable>: Sendable {
    case value(KVRead<Value>)
    case unchanged
    case failure(KVError, retryIn: Duration)
}

/// A blocking-query loop over one read (a key, a prefix, a catalog query). It reports each
/// answer whose index moved, every failure, and the first answer after a failure whatever its
/// index (the consumer compares content), and never stops until cancelled.
public struct KVWatch<Value: Sendable>: Sendable {
    public typealias Read = @Sendable (KVReadOptions) async throws(KVError) -> KVRead<Value>

    private let read: Read
    public let policy: WatchPolicy
    private let clock: ServiceClock

    public init(policy: WatchPolicy = WatchPolicy(), clock: ServiceClock = .continuous, read: @escaping Read) {
        self.policy = policy
        self.clock = clock
        self.read = read
    }

    /// The updates, until the consuming task stops iterating. None is dropped (a value followed
    /// at once by a failure must still be seen); queries are spaced, so the buffer stays small.
    public func updates() -> AsyncStream<WatchUpdate<Value>> {
        let (stream, continuation) = AsyncStream.makeStream(of: WatchUpdate<Value>.self, bufferingPolicy: .unbounded)
        let task = Task { await run { continuation.yield($0) } }
        continuation.onTermination = { _ in task.cancel() }
        return stream
    }

    /// Runs the loop, handing each update to `deliver`, until the task is cancelled.
    public func run(_ deliver: @Sendable (WatchUpdate<Value>) async -> Void) async {
        var index = WatchIndex()
        var failures = 0
        var lastStart: Duration?
        while !Task.isCancelled {
            if let lastStart {
                do {
                    try await clock.sleep(until: lastStart + policy.minimumSpacing)
                } catch {
                    return
                }
            }
            lastStart = clock.now
            let options = KVReadOptions(consistency: policy.consistency, waitIndex: index.waitIndex, waitTime: policy.jitteredWait())
            do throws(KVError) {
                let result = try await read(options)
                failures = 0
                await deliver(index.advance(to: result.index) ? .value(result) : .unchanged)
            } catch {
                if Task.isCancelled { return }
                index.forget()
                failures += 1
                let delay = policy.backoff.delay(afterFailures: failures)
                await deliver(.failure(error, retryIn: delay))
                do {
                    try await clock.sleep(for: delay)
                } catch {
                    return
                }
            }
        }
    }
}

extension KVStore {
    /// Watches one key (nil while it does not exist).
    public func watch(key: String, policy: WatchPolicy = WatchPolicy()) -> KVWatch<KVEntry?> {
        KVWatch(policy: policy) { options throws(KVError) in try await self.get(key, options: options) }
    }

    /// Watches every key under a prefix.
    public func watch(prefix: String, policy: WatchPolicy = WatchPolicy()) -> KVWatch<[KVEntry]> {
        KVWatch(policy: policy) { options throws(KVError) in try await self.list(prefix: prefix, options: options) }
    }
}
