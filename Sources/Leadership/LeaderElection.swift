import Foundation
package import KV
package import Logging

/// Leader election for one role (a repo's syncs, the hosts generator): a KV session renewed
/// every third of its TTL, a lock on the role's leader key, and the guard keys its writes check.
/// A follower waits on the key with a blocking query and takes the lock as soon as it is free.
/// Losing the session (renewal refused, or not renewed within the TTL because KV is
/// unreachable) ends leadership at once.
///
/// Stopping is graceful: when the task running `run()` is cancelled, the election releases
/// its guards and its lock and then destroys its session, in a context that is not cancelled,
/// so a follower takes over at once. Releasing before destroying matters on Consul: a lock
/// freed by ending its session is held back for the session's lock-delay, a released one is not.
package actor LeaderElection {
    package typealias Change = @Sendable (LeaderLock?) async -> Void

    /// What is led, for logs and the session name (`serve repo config`, `hosts dns/hosts`).
    let role: String
    let lockKey: String
    let kv: any KVStore & KVLocking
    let guards: [LeaderGuard]
    let options: KVSessionOptions
    let clock: ServiceClock
    let logger: Logger
    let onChange: Change
    /// Where the election's token came from, for messages.
    let tokenOrigin: String
    private var session: String?
    private var heldGuards: Set<String> = []
    package private(set) var lock: LeaderLock?
    /// Why the election cannot work right now (for health and status), nil when it can.
    package private(set) var problem: String?

    package init(
        role: String, lockKey: String, kv: any KVStore & KVLocking, guards: [LeaderGuard] = [], tokenOrigin: String = "the configured token",
        ttl: Duration, lockDelay: Duration, clock: ServiceClock = .continuous, logger: Logger, onChange: @escaping Change
    ) {
        self.role = role
        self.lockKey = lockKey
        self.kv = kv
        self.guards = guards.filter { $0.key != lockKey }
        self.tokenOrigin = tokenOrigin
        self.options = KVSessionOptions(
            name: "git2kv \(role) on \(ProcessInfo.processInfo.hostName) pid \(getpid())", ttl: ttl, behavior: .release,
            lockDelay: lockDelay)
        self.clock = clock
        self.logger = logger
        self.onChange = onChange
    }

    private var holderValue: [UInt8] {
        Array("{\"host\":\"\(ProcessInfo.processInfo.hostName)\",\"pid\":\(getpid())}".utf8)
    }

    /// Checks once that the token can do what the election needs (create a session), so a
    /// token without session rights is a start-up error that says so, not an endless wait.
    /// Only a refusal throws; an unreachable store is left to the campaign's retries.
    package static func checkPermissions(kv: any KVLocking, tokenOrigin: String, role: String) async throws(LeadershipError) {
        do {
            let session = try await kv.createSession(KVSessionOptions(name: "git2kv \(role) permission check", ttl: .seconds(10), lockDelay: .zero))
            try? await kv.destroySession(session)
        } catch where error.kind == .permissionDenied {
            throw LeadershipError(role: role, "ha needs session write; the token from \(tokenOrigin) lacks it (\(error)). Grant it (git2kv policy prints the rules) or set ha.enabled: false")
        } catch {
            return
        }
    }

    /// Campaigns, leads and campaigns again until the task is cancelled; then gives the lock up.
    package func run() async {
        let backoff = Backoff(initial: .milliseconds(500), maximum: .seconds(15))
        var failures = 0
        var waitIndex: UInt64?
        var sawFreeLock = false
        campaign: while !Task.isCancelled {
            do {
                let session = try await currentSession()
                if try await kv.acquire(lockKey, value: holderValue, session: session) {
                    failures = 0
                    problem = nil
                    try await lead(session)
                    waitIndex = nil
                    sawFreeLock = false
                    continue
                }
                let read = try await kv.get(lockKey, options: KVReadOptions(waitIndex: waitIndex, waitTime: options.ttl / 2))
                failures = 0
                problem = nil
                if read.value?.session == nil {
                    // Free: try at once. Free twice in a row without our acquire succeeding
                    // means the lock delay after the last leader's session ended: wait a little.
                    if sawFreeLock { try await clock.sleep(for: max(options.lockDelay / 4, .milliseconds(100))) }
                    sawFreeLock = true
                    waitIndex = nil
                } else {
                    sawFreeLock = false
                    waitIndex = read.index
                }
                if try await !kv.renewSession(session) { self.session = nil }
            } catch let error as KVError where error.kind == .cancelled {
                break campaign
            } catch is CancellationError {
                break campaign
            } catch {
                failures += 1
                await step(down: "leader election for \(role) failed: \(error)")
                if let leadershipError = error as? LeadershipError {
                    problem = leadershipError.message
                } else if let kvError = error as? KVError, kvError.kind == .permissionDenied {
                    problem = "ha needs session write and write on \(lockKey); the token from \(tokenOrigin) is refused: \(kvError)"
                } else {
                    problem = "leader election failing: \(error)"
                }
                if failures == 1 || failures % 10 == 0 {
                    logger.warning("leader election failing", metadata: ["role": "\(role)", "error": "\(problem ?? "")"])
                }
                do { try await clock.sleep(for: backoff.delay(afterFailures: failures)) } catch { break campaign }
            }
        }
        // The task is cancelled: resign from one that is not, or every request would fail.
        await Task { await self.resign() }.value
    }

    private func currentSession() async throws(KVError) -> String {
        if let session { return session }
        let created = try await kv.createSession(options)
        session = created
        return created
    }

    /// Takes the guards, then holds the lock, renewing the session, until the renewal is
    /// refused or has failed for a whole TTL, or the lock key stops naming the session (watched
    /// with a blocking query, so an idle leader costs one renewal per interval and one request
    /// per lock watch wait). Throws CancellationError when stopped.
    private func lead(_ session: String) async throws {
        var renewal = LeaseRenewal(ttl: options.ttl, renewedAt: clock.now)
        guard try await takeGuards(session, renewal: &renewal) else { return }
        let lock = LeaderLock(key: lockKey, session: session)
        self.lock = lock
        logger.info("leading", metadata: ["role": "\(role)", "lock": "\(lockKey)"])
        await onChange(lock)
        let renewed = renewal
        let lost = try await withThrowingTaskGroup(of: String?.self) { group in
            group.addTask { try await self.renewWhileLeading(session, renewal: renewed) }
            group.addTask { try await self.watchLock(heldBy: session) }
            defer { group.cancelAll() }
            return try await group.next() ?? nil
        }
        if let lost { await step(down: lost) }
    }

    /// Renews every interval; returns (nil: `keep` stepped down) when leadership is over.
    private func renewWhileLeading(_ session: String, renewal: LeaseRenewal) async throws -> String? {
        var renewal = renewal
        while true {
            try await clock.sleep(until: renewal.nextAttempt)
            guard try await keep(session, renewal: &renewal) else { return nil }
        }
    }

    /// Longest wait of the leader's blocking query on its own lock key.
    static let lockWatchWait: Duration = .seconds(300)

    /// Returns why leadership is over once the lock key no longer names `session` (deleted, or
    /// taken by another session). An unreachable store is not a reason: the renewal decides.
    private func watchLock(heldBy session: String) async throws -> String? {
        var index: UInt64?
        while true {
            do {
                let read = try await kv.get(lockKey, options: KVReadOptions(waitIndex: index, waitTime: Self.lockWatchWait))
                guard read.value?.session == session else { return "the lock \(lockKey) is no longer ours" }
                index = read.index
            } catch where error.kind == .cancelled {
                throw CancellationError()
            } catch {
                index = nil
                try await clock.sleep(for: LeaseRenewal(ttl: options.ttl, renewedAt: .zero).interval)
            }
        }
    }

    /// Renews the session; false (after stepping down) when leadership is over.
    private func keep(_ session: String, renewal: inout LeaseRenewal) async throws -> Bool {
        do {
            guard try await kv.renewSession(session) else {
                self.session = nil
                heldGuards = []
                await step(down: "session ended (not renewed in time)")
                return false
            }
            renewal.renewed(at: clock.now)
            return true
        } catch where error.kind == .cancelled {
            throw CancellationError()
        } catch {
            guard renewal.failed(at: clock.now) else {
                self.session = nil
                heldGuards = []
                await step(down: "could not renew the session for a whole TTL: \(error)")
                return false
            }
            return true
        }
    }

    /// Locks every guard key with the session. A guard still held back by the lock delay of a
    /// previous leader's session is tried again shortly; the session is renewed meanwhile.
    private func takeGuards(_ session: String, renewal: inout LeaseRenewal) async throws -> Bool {
        var warned = false
        while true {
            var missing: [String] = []
            for leaderGuard in guards where !heldGuards.contains(leaderGuard.key) {
                let taken: Result<Bool, KVError>
                do { taken = .success(try await leaderGuard.kv.acquire(leaderGuard.key, value: holderValue, session: session)) } catch { taken = .failure(error) }
                switch taken {
                case .success(true): heldGuards.insert(leaderGuard.key)
                case .success(false): missing.append(leaderGuard.key)
                case .failure(let error) where error.kind == .cancelled: throw CancellationError()
                case .failure(let error) where error.kind == .permissionDenied:
                    throw LeadershipError(
                        role: role, "ha needs write on the guard key \(leaderGuard.key); the token from \(leaderGuard.tokenOrigin) is refused: \(error)")
                case .failure(let error): throw error
                }
            }
            if missing.isEmpty { return true }
            if !warned {
                logger.info("waiting for guard keys held back by the last leader's lock delay", metadata: ["role": "\(role)", "keys": "\(missing)"])
                warned = true
            }
            try await clock.sleep(for: max(options.lockDelay / 4, .milliseconds(100)))
            if clock.now >= renewal.nextAttempt, try await !keep(session, renewal: &renewal) { return false }
        }
    }

    private func step(down reason: String) async {
        if let session, !heldGuards.isEmpty { await releaseGuards(session) }
        guard lock != nil else { return }
        lock = nil
        logger.warning("no longer leading", metadata: ["role": "\(role)", "reason": "\(reason)"])
        await onChange(nil)
    }

    private func releaseGuards(_ session: String) async {
        for leaderGuard in guards where heldGuards.contains(leaderGuard.key) {
            _ = try? await leaderGuard.kv.release(leaderGuard.key, value: [], session: session)
        }
        heldGuards = []
    }

    /// Releases the guards and the lock, then ends the session, so a follower takes over at
    /// once: no TTL to wait out and, on Consul, no lock delay.
    package func resign() async {
        let held = lock
        if held != nil {
            lock = nil
            await onChange(nil)
        }
        guard let session else { return }
        self.session = nil
        await releaseGuards(session)
        if held != nil {
            do {
                _ = try await kv.release(lockKey, value: [], session: session)
            } catch {
                logger.warning("could not release the leader lock; followers take over when the session ends", metadata: ["role": "\(role)", "error": "\(error)"])
            }
        }
        try? await kv.destroySession(session)
        if held != nil { logger.info("resigned", metadata: ["role": "\(role)", "lock": "\(lockKey)"]) }
    }
}

/// Leadership cannot work with this configuration (a token without the rights it needs).
package struct LeadershipError: Error, Sendable, CustomStringConvertible {
    package let role: String
    package let message: String

    init(role: String, _ message: String) {
        self.role = role
        self.message = message
    }

    package var description: String { "\(role): \(message)" }
}
