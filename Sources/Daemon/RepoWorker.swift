import Foundation
import KV
import Logging
import Pipeline

/// Everything the daemon does for one repo: polls it, runs the syncs that polls and webhooks
/// ask for (at most one running and one queued per branch), takes part in its leader election
/// and keeps its metrics current.
actor RepoWorker {
    let repo: RepoConfig
    let context: DaemonContext
    private var coalescer = SyncCoalescer<SyncTrigger>()
    private var running: [SyncTrigger: Task<Void, Never>] = [:]
    private var failureCounts: [SyncTrigger: Int] = [:]
    /// The head each branch was last synced at by every one of its mappings.
    private var liveHeads: [String: String] = [:]
    private var pollTask: Task<Void, Never>?
    private var leadershipTask: Task<Void, Never>?
    private var leadership: LeaderElection?
    private var leaderLock: LeaderLock?
    private var stopping = false
    private let clock = ContinuousClock()
    private var lastFetchStarted: ContinuousClock.Instant?
    private var lastSuccessfulFetch: ContinuousClock.Instant?
    private let startedAt = ContinuousClock().now
    /// Sync passes carried out (not skipped), for tests and metrics.
    private(set) var passes = 0

    init(repo: RepoConfig, context: DaemonContext) {
        self.repo = repo
        self.context = context
    }

    private var logger: Logger {
        var logger = context.logger
        logger[metadataKey: "repo"] = "\(repo.name)"
        return logger
    }

    var isLeader: Bool { !context.config.serve.highAvailability || leaderLock != nil }

    private var allTriggers: [SyncTrigger] { repo.branches.map(SyncTrigger.branch) + (repo.tags.isEmpty ? [] : [.tags]) }

    // MARK: Life cycle

    func start() throws(SyncError) {
        if context.config.serve.highAvailability {
            let target = repo.leadTarget
            let kv = try KVConnection.open(context.config.kv, token: target.mapping.token)
            let leadership = LeaderElection(
                role: "serve repo \(repo.name)", lockKey: target.leaderKey, kv: kv, ttl: context.config.serve.sessionTTL,
                lockDelay: context.config.serve.lockDelay, logger: logger
            ) { [weak self] lock in await self?.leadershipChanged(lock) }
            self.leadership = leadership
            leadershipTask = Task { await leadership.run() }
        }
        context.metrics.setLeader(repo: repo.name, isLeader)
        pollTask = Task { await self.pollForever() }
    }

    /// Stops polling and taking requests, lets running syncs finish their transactions, then
    /// gives up leadership.
    func stop() async {
        stopping = true
        pollTask?.cancel()
        coalescer.dropQueued()
        for task in running.values { await task.value }
        leadershipTask?.cancel()
        await leadershipTask?.value
    }

    // MARK: Triggers

    /// Asks for syncs; returns what became of each request (started, queued or coalesced).
    @discardableResult
    func request(_ triggers: [SyncTrigger]? = nil, cause: SyncCause) -> [SyncTrigger: SyncCoalescer<SyncTrigger>.Decision] {
        var decisions: [SyncTrigger: SyncCoalescer<SyncTrigger>.Decision] = [:]
        guard !stopping else { return decisions }
        for trigger in triggers ?? allTriggers {
            let decision = coalescer.request(trigger)
            decisions[trigger] = decision
            if decision == .start {
                running[trigger] = Task { await self.drain(trigger, cause: cause) }
            }
        }
        return decisions
    }

    /// Requests the syncs a push asks for: the branches and tags this repo follows, except
    /// branches whose pushed head is live already (a redelivered or late webhook).
    func request(for event: PushEvent) -> [SyncTrigger: SyncCoalescer<SyncTrigger>.Decision] {
        guard !event.everything else { return request(cause: .webhook) }
        var triggers = event.branches.filter { branch in
            repo.branches.contains(branch) && (event.heads[branch] == nil || event.heads[branch] != liveHeads[branch])
        }.map(SyncTrigger.branch)
        if event.tags.contains(where: { tag in repo.tags.contains { GlobPattern($0).matches(tag) } }) { triggers.append(.tags) }
        return triggers.isEmpty ? [:] : request(triggers, cause: .webhook)
    }

    private func drain(_ trigger: SyncTrigger, cause: SyncCause) async {
        var cause = cause
        while true {
            await perform(trigger, cause: cause)
            if Task.isCancelled || stopping {
                coalescer.clear(trigger)
                break
            }
            guard coalescer.finished(trigger) else { break }
            cause = .webhook
        }
        running[trigger] = nil
    }

    private func pollForever() async {
        request(cause: .startup)
        while !Task.isCancelled {
            let interval = repo.pollInterval
            let jitter = interval / 10 * Double.random(in: -1...1)
            do { try await Task.sleep(for: interval + jitter) } catch { return }
            if isLeader {
                request(cause: .poll)
            } else {
                await fetchOnly()
            }
        }
    }

    // MARK: Syncing

    private func perform(_ trigger: SyncTrigger, cause: SyncCause) async {
        guard isLeader else {
            logger.debug("not leading; sync request left to the leader", metadata: ["trigger": "\(trigger)"])
            return
        }
        let requestedAt = clock.now
        let fetch = lastFetchStarted.map { $0 < requestedAt } ?? true
        let lock = leaderLock
        let guardToken = repo.mappings[0].token
        let throttle = context.throttle
        let pass = RepoSyncPass(runner: context.runner, repo: repo, trigger: trigger, fetch: fetch, sync: true) { target in
            SyncOptions(leaderLock: target.mapping.token == guardToken ? lock : nil, throttle: throttle)
        }
        if fetch { lastFetchStarted = clock.now }
        let started = clock.now
        let outcome = await context.concurrency.run { await pass.run() }
        passes += 1
        record(outcome, trigger: trigger, cause: cause, duration: started.duration(to: clock.now))
    }

    private func fetchOnly() async {
        lastFetchStarted = clock.now
        let pass = RepoSyncPass(runner: context.runner, repo: repo, trigger: nil, fetch: true, sync: false) { _ in SyncOptions() }
        let outcome = await context.concurrency.run { await pass.run() }
        noteFetch(outcome)
    }

    private func noteFetch(_ outcome: RepoSyncPass.Outcome) {
        if outcome.fetched { lastSuccessfulFetch = clock.now }
        if let error = outcome.fetchError ?? outcome.mirrorError {
            context.metrics.recordGitError(repo: repo.name)
            logger.warning("fetch failed; serving KV as it is and retrying", metadata: ["error": "\(error)"])
        }
    }

    private func record(_ outcome: RepoSyncPass.Outcome, trigger: SyncTrigger, cause: SyncCause, duration: Duration) {
        noteFetch(outcome)
        let now = Date().timeIntervalSince1970
        let mappingFailures = outcome.report.failures.filter { $0.target != nil }
        let share = duration / max(1, outcome.report.results.count + mappingFailures.count)
        for result in outcome.report.results {
            context.metrics.recordSync(result.target, duration: share, succeeded: result.plan.outstandingErrors.isEmpty, at: now)
            context.metrics.recordWritten(result.target, bundles: result.plan.writes.count, deletes: result.plan.deletes.count, bytes: result.bytesWritten)
            context.metrics.setCommitsBehind(result.target, 0)
            context.metrics.setFrozen(result.target, false)
            if !result.plan.isEmpty {
                logger.info(
                    "synced", metadata: [
                        "prefix": "\(result.target.prefix)", "commit": "\(result.plan.head.prefix(12))", "cause": "\(cause.rawValue)",
                        "written": "\(result.plan.writes.count)", "deleted": "\(result.plan.deletes.count)", "mode": "\(result.plan.mode.rawValue)",
                    ])
            }
            for problem in result.plan.problems {
                logger.error("file kept its bundle at the last good value", metadata: ["prefix": "\(result.target.prefix)", "problem": "\(problem)"])
            }
        }
        if case .branch(let branch) = trigger, outcome.report.failures.isEmpty,
            let head = outcome.report.results.first(where: { $0.target.reference == branch })?.plan.head
        {
            liveHeads[branch] = head
        }
        var retry = false
        for failure in outcome.report.failures {
            guard let target = failure.target else {
                // A branch or tag that could not be resolved (deleted, or not fetched yet).
                logger.error("sync failed", metadata: ["what": "\(failure.what)", "error": "\(failure.error)"])
                retry = true
                continue
            }
            if failure.error.kind == .frozen {
                context.metrics.setFrozen(target, true)
                logger.debug("skipped frozen prefix", metadata: ["prefix": "\(target.prefix)"])
                continue
            }
            context.metrics.recordSync(target, duration: share, succeeded: false, at: now)
            if failure.error.kind == .kv { context.metrics.recordKVError(kind: "sync") }
            logger.error("sync failed", metadata: ["prefix": "\(target.prefix)", "error": "\(failure.error)"])
            retry = retry || failure.error.kind != .notLeader
        }
        for (target, status) in outcome.failedStatuses {
            if let behind = status.commitsBehind { context.metrics.setCommitsBehind(target, behind) }
            if status.frozen != nil { context.metrics.setFrozen(target, true) }
        }
        if let error = outcome.mirrorError {
            logger.error("cannot open the mirror", metadata: ["error": "\(error)"])
            retry = true
        }
        scheduleRetry(trigger, needed: retry)
    }

    /// A failed sync (KV or git unreachable) is tried again with backoff, well before the next poll.
    private func scheduleRetry(_ trigger: SyncTrigger, needed: Bool) {
        guard needed else {
            failureCounts[trigger] = nil
            return
        }
        let failures = (failureCounts[trigger] ?? 0) + 1
        failureCounts[trigger] = failures
        let delay = Backoff(initial: .seconds(1), maximum: repo.pollInterval).delay(afterFailures: failures)
        Task { [weak self] in
            try? await Task.sleep(for: delay)
            await self?.request([trigger], cause: .poll)
        }
    }

    // MARK: Leadership

    private func leadershipChanged(_ lock: LeaderLock?) {
        let wasLeader = leaderLock != nil
        leaderLock = lock
        context.metrics.setLeader(repo: repo.name, lock != nil)
        if lock != nil, !wasLeader {
            request(cause: .leadership)
        } else if lock == nil, wasLeader {
            // Stop writing at once: the lock check in each transaction is the second line.
            for task in running.values { task.cancel() }
        }
    }

    // MARK: Health

    /// Seconds since the last successful fetch (since start when none succeeded yet).
    func secondsSinceLastPoll() -> Double {
        let since = lastSuccessfulFetch ?? startedAt
        return since.duration(to: clock.now).inSeconds
    }

    var hasFetched: Bool { lastSuccessfulFetch != nil }

    /// No sync running or queued.
    var isIdle: Bool { coalescer.isIdle }
}
