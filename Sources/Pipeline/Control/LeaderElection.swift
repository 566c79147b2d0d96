import Foundation
package import KV
package import Logging

/// Leader election for one role (a repo's syncs, the hosts generator): a KV session renewed
/// every third of its TTL, and a lock on the role's leader key. A follower waits on the key with a blocking query and takes the lock as
/// soon as it is free. Losing the session (renewal refused, or not renewed within the TTL
/// because KV is unreachable) ends leadership at once.
package actor LeaderElection {
    package typealias Change = @Sendable (LeaderLock?) async -> Void

    /// What is led, for logs and the session name (`serve repo config`, `hosts dns/hosts`).
    let role: String
    let lockKey: String
    let kv: any KVStore & KVLocking
    let options: KVSessionOptions
    let logger: Logger
    let onChange: Change
    private var session: String?
    package private(set) var lock: LeaderLock?

    package init(role: String, lockKey: String, kv: any KVStore & KVLocking, ttl: Duration, lockDelay: Duration, logger: Logger, onChange: @escaping Change) {
        self.role = role
        self.lockKey = lockKey
        self.kv = kv
        self.options = KVSessionOptions(
            name: "git2kv \(role) on \(ProcessInfo.processInfo.hostName) pid \(getpid())", ttl: ttl, behavior: .release,
            lockDelay: lockDelay)
        self.logger = logger
        self.onChange = onChange
    }

    private var holderValue: [UInt8] {
        Array("{\"host\":\"\(ProcessInfo.processInfo.hostName)\",\"pid\":\(getpid())}".utf8)
    }

    /// Campaigns, leads and campaigns again until cancelled; then gives the lock up.
    package func run() async {
        let backoff = Backoff(initial: .milliseconds(500), maximum: .seconds(15))
        var failures = 0
        var waitIndex: UInt64?
        while !Task.isCancelled {
            do {
                let session = try await currentSession()
                if try await kv.acquire(lockKey, value: holderValue, session: session) {
                    failures = 0
                    try await lead(session)
                    waitIndex = nil
                    continue
                }
                let read = try await kv.get(lockKey, options: KVReadOptions(waitIndex: waitIndex, waitTime: options.ttl / 2))
                failures = 0
                if read.value?.session == nil {
                    // Free but not takeable yet: the lock delay after the last leader's session ended.
                    try await Task.sleep(for: max(options.lockDelay / 4, .milliseconds(100)))
                    waitIndex = nil
                } else {
                    waitIndex = read.index
                }
                if try await !kv.renewSession(session) { self.session = nil }
            } catch is CancellationError {
                break
            } catch {
                failures += 1
                await step(down: "leader election for \(role) failed: \(error)")
                if failures == 1 || failures % 10 == 0 { logger.warning("leader election failing", metadata: ["role": "\(role)", "error": "\(error)"]) }
                try? await Task.sleep(for: backoff.delay(afterFailures: failures))
            }
        }
        await resign()
    }

    private func currentSession() async throws(KVError) -> String {
        if let session { return session }
        let created = try await kv.createSession(options)
        session = created
        return created
    }

    /// Holds the lock, renewing the session, until the renewal is refused or has failed for a
    /// whole TTL. Throws (after stepping down) when KV stays unreachable.
    private func lead(_ session: String) async throws {
        let lock = LeaderLock(key: lockKey, session: session)
        self.lock = lock
        logger.info("leading", metadata: ["role": "\(role)", "lock": "\(lockKey)"])
        await onChange(lock)
        let clock = ContinuousClock()
        var lastRenewal = clock.now
        while true {
            try await Task.sleep(for: options.ttl / 3)
            do {
                guard try await kv.renewSession(session) else {
                    self.session = nil
                    await step(down: "session ended (not renewed in time)")
                    return
                }
                let holder = try await kv.get(lockKey).value?.session
                guard holder == session else {
                    await step(down: "the lock \(lockKey) is no longer ours")
                    return
                }
                lastRenewal = clock.now
            } catch {
                if lastRenewal.duration(to: clock.now) >= options.ttl {
                    self.session = nil
                    await step(down: "could not renew the session for a whole TTL: \(error)")
                    return
                }
            }
        }
    }

    private func step(down reason: String) async {
        guard lock != nil else { return }
        lock = nil
        logger.warning("no longer leading", metadata: ["role": "\(role)", "reason": "\(reason)"])
        await onChange(nil)
    }

    /// Releases the lock and ends the session, so a follower takes over without waiting for the TTL.
    package func resign() async {
        let held = lock
        if held != nil {
            lock = nil
            await onChange(nil)
        }
        guard let session else { return }
        self.session = nil
        if let held { _ = try? await kv.release(held.key, value: [], session: session) }
        try? await kv.destroySession(session)
    }
}
