import Foundation
import KV
import Logging
import Pipeline
import ConfigParsing
import Leadership

/// Everything the daemon does for one repo: polls it, runs the syncs that polls and webhooks
/// ask for (at most one running and one queued per branch), takes part in its leader election
/// and keeps its metrics current. A follower fetches but never writes; webhooks it receives
/// go to the leader through the repo's sync-request key.
actor RepoWorker {
    let repo: RepoConfig
    let context: DaemonContext
    private var coalescer = SyncCoalescer<SyncTrigger>()
    private var running: [SyncTrigger: Task<Void, Never>] = [:]
    private var retries: RetrySchedule<SyncTrigger>
    private var retryTasks: [SyncTrigger: Task<Void, Never>] = [:]
    /// The head each branch was last synced at by every one of its mappings, earlier ones, and
    /// heads pushes asked for that are not synced yet.
    private var heads = PushHeads()
    private var fetchBudget: FetchBudget
    private var pollTask: Task<Void, Never>?
    private var leadershipTask: Task<Void, Never>?
    private var requestWatchTask: Task<Void, Never>?
    private var rolloutTask: Task<Void, Never>?
    private let reportsCache = ReportsCache()
    /// The last rollout problem logged per prefix, so a KV outage is logged once, not per tick.
    private var rolloutProblems: [String: String] = [:]
    private var leadership: LeaderElection?
    private var leaderLock: LeaderLock?
    private var leadKV: (any KVStore & KVLocking)?
    private var stopping = false
    private var lastFetchStarted: Duration?
    private var lastSuccessfulFetch: Duration?
    private let startedAt: Duration
    /// A leader's pass that wrote every mapping (or found it current) since it took the lead.
    private(set) var syncedSinceLeading = false
    /// Sync passes carried out (not skipped), for tests and metrics.
    private(set) var passes = 0
    /// Repo-wide failures (fetch, mirror, unresolvable branches), for status, health and logs.
    private(set) var problems = RepoProblems()

    init(repo: RepoConfig, context: DaemonContext) {
        self.repo = repo
        self.context = context
        fetchBudget = FetchBudget(every: repo.fetchLimit.every, burst: repo.fetchLimit.burst, now: context.clock.now)
        retries = RetrySchedule(pollInterval: repo.pollInterval)
        startedAt = context.clock.now
    }

    private var logger: Logger {
        var logger = context.logger
        logger[metadataKey: "repo"] = "\(repo.name)"
        return logger
    }

    private var highAvailability: Bool { context.config.serve.highAvailability }

    var isLeader: Bool { !highAvailability || leaderLock != nil }

    /// `leader`, `follower`, or `single` without HA.
    var role: String { !highAvailability ? "single" : leaderLock != nil ? "leader" : "follower" }

    /// Why the election cannot work (a token without session rights), for health and status.
    func leadershipProblem() async -> String? { await leadership?.problem }

    private var allTriggers: [SyncTrigger] { repo.branches.map(SyncTrigger.branch) + (repo.tags.isEmpty ? [] : [.tags]) }

    // MARK: Life cycle

    func start() throws(SyncError) {
        if highAvailability {
            let target = repo.leadTarget
            let kv = try KVConnection.openForSync(context.config.kv, token: target.mapping.token)
            leadKV = kv
            var guards: [LeaderGuard] = []
            for mapping in repo.mappings {
                let key = repo.guardKey(of: mapping)
                guard key != target.leaderKey, !guards.contains(where: { $0.key == key }) else { continue }
                let guardKV = try KVConnection.openForSync(context.config.kv, token: mapping.token)
                guards.append(LeaderGuard(key: key, kv: guardKV, tokenOrigin: Self.tokenOrigin(mapping, context.config)))
            }
            let leadership = LeaderElection(
                role: "serve repo \(repo.name)", lockKey: target.leaderKey, kv: kv, guards: guards,
                tokenOrigin: Self.tokenOrigin(target.mapping, context.config), ttl: context.config.serve.sessionTTL,
                lockDelay: context.config.serve.lockDelay, clock: context.clock, logger: logger
            ) { [weak self] lock in await self?.leadershipChanged(lock) }
            self.leadership = leadership
            leadershipTask = Task { await leadership.run() }
        }
        context.metrics.setLeader(repo: repo.name, isLeader)
        pollTask = Task { await self.pollForever() }
        if !highAvailability {
            superviseRollouts()
            dropStrayStages()
        }
    }

    static func tokenOrigin(_ mapping: MappingConfig, _ config: DaemonConfig) -> String {
        (mapping.token ?? config.kv.token).map(\.description) ?? "no token (anonymous)"
    }

    /// Stops polling and taking requests, lets running syncs finish their transactions, then
    /// gives up leadership (guards, lock, session) so a follower takes over at once.
    func stop() async {
        stopping = true
        pollTask?.cancel()
        requestWatchTask?.cancel()
        for task in retryTasks.values { task.cancel() }
        retryTasks = [:]
        coalescer.dropQueued()
        for task in running.values { await task.value }
        // A promotion under way finishes its transactions; no new step starts.
        rolloutTask?.cancel()
        await rolloutTask?.value
        leadershipTask?.cancel()
        await leadershipTask?.value
        await requestWatchTask?.value
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

    /// What became of a webhook's push on this replica.
    enum PushHandling: Sendable {
        /// This replica leads (or runs alone): syncs started, queued or coalesced.
        case syncing([SyncTrigger: SyncCoalescer<SyncTrigger>.Decision])
        /// Nothing to do: no followed reference, or its pushed head is live already.
        case nothingToDo
        /// Passed to the leader through the sync-request key; `leader` names it when known.
        case forwarded(key: String, leader: String?)
        /// Not leading, and the request could not be passed on (KV unreachable).
        case notForwarded(String)

        /// The sender is told to send it again, so its delivery id must not be remembered.
        var asksForRedelivery: Bool {
            if case .notForwarded = self { return true }
            return false
        }
    }

    /// Handles a verified push: the leader syncs it; a follower passes it to the leader.
    func handle(_ event: PushEvent) async -> PushHandling {
        let triggers = triggers(for: event)
        guard !triggers.isEmpty else { return .nothingToDo }
        if isLeader { return .syncing(requestPushed(triggers, event: event, cause: .webhook)) }
        guard let kv = leadKV else { return .notForwarded("this replica has no KV connection") }
        let key = repo.leadTarget.syncRequestKey
        let forwarded = ForwardedSyncRequest(event, receivedBy: "\(ProcessInfo.processInfo.hostName) pid \(getpid())")
        do {
            try await kv.put(key, value: forwarded.encoded())
        } catch {
            logger.error("webhook not passed to the leader", metadata: ["key": "\(key)", "error": "\(error)"])
            return .notForwarded("cannot write \(key): \(error)")
        }
        context.metrics.recordForwardedWebhook(repo: repo.name)
        let holder = try? await kv.get(repo.leadTarget.leaderKey).value
        let leader = holder.flatMap { $0.session == nil ? nil : String(decoding: $0.value, as: UTF8.self) }
        logger.debug("webhook passed to the leader", metadata: ["key": "\(key)", "leader": "\(leader ?? "none")"])
        return .forwarded(key: key, leader: leader)
    }

    /// The syncs a push asks for: the branches and tags this repo follows, except branches
    /// whose pushed head is live already, asked for already, or an earlier push replayed.
    private func triggers(for event: PushEvent) -> [SyncTrigger] {
        guard !event.everything else { return allTriggers }
        var triggers = event.branches.filter { branch in
            guard repo.branches.contains(branch) else { return false }
            guard let head = event.heads[branch] else { return true }
            return !heads.covers(branch: branch, head: head, previous: event.previousHeads[branch])
        }.map(SyncTrigger.branch)
        if event.tags.contains(where: { tag in repo.tags.contains { GlobPattern($0).matches(tag) } }) { triggers.append(.tags) }
        return triggers
    }

    /// Requests the syncs of a push, remembering the heads it asked for.
    private func requestPushed(
        _ triggers: [SyncTrigger], event: PushEvent, cause: SyncCause
    ) -> [SyncTrigger: SyncCoalescer<SyncTrigger>.Decision] {
        let now = context.clock.now
        for case .branch(let branch) in triggers {
            if let head = event.heads[branch] { heads.requested(branch: branch, head: head, at: now) }
        }
        return request(triggers, cause: cause)
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
        let clock = context.clock
        while !Task.isCancelled {
            let due = PollSchedule.next(after: clock.now, interval: repo.pollInterval, jitter: Double.random(in: -1...1))
            do { try await clock.sleep(until: due) } catch { return }
            request(cause: .poll)
        }
    }

    // MARK: Syncing

    private func perform(_ trigger: SyncTrigger, cause: SyncCause) async {
        guard isLeader else {
            // A follower keeps its mirror fresh (it is ready once fetched) and writes nothing.
            await fetchOnly()
            return
        }
        var requestedAt = context.clock.now
        let fetch = lastFetchStarted.map { $0 < requestedAt } ?? true
        if fetch, let start = fetchBudget.reserve(at: requestedAt) {
            // Over the repo's fetch_limit: wait (requests meanwhile are coalesced), drop nothing.
            try? await context.clock.sleep(until: start)
            requestedAt = context.clock.now
        }
        let lock = leaderLock
        let repo = repo
        let throttle = context.throttle
        let pass = RepoSyncPass(runner: context.runner, repo: repo, trigger: trigger, fetch: fetch, sync: true) { target in
            repo.writeOptions(for: target.mapping, lock: lock, throttle: throttle)
        }
        if fetch { lastFetchStarted = requestedAt }
        let fetchedAt = lastFetchStarted
        let started = context.clock.now
        let outcome = await context.concurrency.run { await pass.run() }
        passes += 1
        record(outcome, trigger: trigger, cause: cause, duration: context.clock.now - started, fetchedAt: fetchedAt)
    }

    private func fetchOnly() async {
        let requestedAt = context.clock.now
        if let last = lastFetchStarted, last >= requestedAt { return }
        lastFetchStarted = requestedAt
        let pass = RepoSyncPass(runner: context.runner, repo: repo, trigger: nil, fetch: true, sync: false) { _ in SyncOptions() }
        let outcome = await context.concurrency.run { await pass.run() }
        noteFetch(outcome)
        noteProblems(outcome, checkedBranches: [])
    }

    private func noteFetch(_ outcome: RepoSyncPass.Outcome) {
        if outcome.fetched { lastSuccessfulFetch = context.clock.now }
        if outcome.fetchError != nil || outcome.mirrorError != nil { context.metrics.recordGitError(repo: repo.name) }
    }

    /// Updates the repo's problems from a pass, logging each once when it appears or clears.
    private func noteProblems(_ outcome: RepoSyncPass.Outcome, checkedBranches: [String]) {
        var found: [String: String] = [:]
        if let error = outcome.fetchError {
            found["fetch"] = hasFetched ? "\(error) (serving KV as it is; retrying)" : "\(error) (never fetched since start)"
        }
        if let error = outcome.mirrorError { found["mirror"] = error.description }
        for failure in outcome.report.failures where failure.target == nil {
            found[failure.what.replacingOccurrences(of: "repo \(repo.name) ", with: "")] = failure.error.description
        }
        var checked: Set<String> = outcome.mirrorError == nil ? ["fetch", "mirror"] : ["mirror"]
        for branch in checkedBranches { checked.insert("branch \(branch)") }
        if checkedBranches.isEmpty == false || outcome.report.failures.contains(where: { $0.target == nil }) { checked.insert("tags") }
        let changes = problems.update(checked: checked, found: found)
        for (what, message) in changes.appeared + changes.changed {
            logger.error("repo cannot sync", metadata: ["what": "\(what)", "error": "\(message)"])
        }
        for what in changes.cleared { logger.info("repo recovered", metadata: ["what": "\(what)"]) }
        context.metrics.setRepoProblems(repo: repo.name, problems.descriptions.count)
    }

    private func record(_ outcome: RepoSyncPass.Outcome, trigger: SyncTrigger, cause: SyncCause, duration: Duration, fetchedAt: Duration?) {
        noteFetch(outcome)
        if case .branch(let branch) = trigger { noteProblems(outcome, checkedBranches: [branch]) } else { noteProblems(outcome, checkedBranches: []) }
        let now = Date().timeIntervalSince1970
        let mappingFailures = outcome.report.failures.filter { $0.target != nil }
        let share = duration / max(1, outcome.report.results.count + mappingFailures.count)
        for result in outcome.report.results {
            context.metrics.recordSync(result.target, duration: share, succeeded: result.plan.outstandingErrors.isEmpty, at: now)
            context.metrics.setFrozen(result.target, result.stage?.halted != nil)
            if let stage = result.stage {
                if result.staged {
                    context.metrics.recordRollout(result.target, event: "staged")
                    context.metrics.setRolloutStage(result.target, phase: stage.phase, healthyCanaries: 0)
                    logger.info(
                        "staged for canary nodes; the fleet keeps the live commit", metadata: [
                            "prefix": "\(result.target.prefix)", "commit": "\(stage.commit.prefix(12))", "cause": "\(cause.rawValue)",
                            "bundles": "\(stage.bundles.count)", "live": "\(stage.liveCommit?.prefix(12) ?? "none")",
                        ])
                }
                continue
            }
            context.metrics.recordWritten(result.target, bundles: result.plan.writes.count, deletes: result.plan.deletes.count, bytes: result.bytesWritten)
            context.metrics.setCommitsBehind(result.target, 0)
            if !result.plan.isEmpty {
                logger.info(
                    "synced", metadata: [
                        "prefix": "\(result.target.prefix)", "commit": "\(result.plan.head.prefix(12))", "cause": "\(cause.rawValue)",
                        "written": "\(result.plan.writes.count)", "deleted": "\(result.plan.deletes.count)", "mode": "\(result.plan.mode.rawValue)",
                    ])
            }
            if !result.plan.drift.isEmpty {
                context.metrics.recordDriftRepairs(result.target, result.plan.drift.count)
                logger.warning(
                    "KV had drifted from git; repaired", metadata: [
                        "prefix": "\(result.target.prefix)", "repairs": "\(result.plan.drift.count)",
                        "keys": "\(result.plan.drift.prefix(20).joined(separator: "; "))",
                    ])
            }
            for problem in result.plan.problems {
                logger.error("file kept its bundle at the last good value", metadata: ["prefix": "\(result.target.prefix)", "problem": "\(problem)"])
            }
        }
        if case .branch(let branch) = trigger, outcome.report.failures.isEmpty,
            let head = outcome.report.results.first(where: { $0.target.reference == branch })?.plan.head
        {
            heads.synced(branch: branch, head: head, fetchedAt: fetchedAt)
        }
        var retry = false
        for failure in outcome.report.failures {
            guard let target = failure.target else {
                // A branch or tag that could not be resolved (deleted, or not fetched yet):
                // logged by noteProblems when it appears, retried on one schedule.
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
        if outcome.mirrorError != nil { retry = true }
        if !retry, isLeader, outcome.mirrorError == nil, outcome.fetchError == nil { syncedSinceLeading = true }
        scheduleRetry(trigger, needed: retry)
    }

    /// A failed sync (KV or git unreachable) is tried again with backoff, well before the next
    /// poll; at most one retry per trigger is ever pending.
    private func scheduleRetry(_ trigger: SyncTrigger, needed: Bool) {
        guard needed else {
            retries.succeeded(trigger)
            return
        }
        guard let deadline = retries.failed(trigger, at: context.clock.now, jitter: Double.random(in: 0...1)) else { return }
        let clock = context.clock
        retryTasks[trigger] = Task { [weak self] in
            do { try await clock.sleep(until: deadline) } catch { return }
            await self?.retry(trigger)
        }
    }

    private func retry(_ trigger: SyncTrigger) {
        retries.fired(trigger)
        retryTasks[trigger] = nil
        request([trigger], cause: .retry)
    }

    // MARK: Leadership

    private func leadershipChanged(_ lock: LeaderLock?) {
        let wasLeader = leaderLock != nil
        leaderLock = lock
        context.metrics.setLeader(repo: repo.name, lock != nil)
        if lock != nil, !wasLeader {
            syncedSinceLeading = false
            request(cause: .leadership)
            watchSyncRequests()
            superviseRollouts()
            dropStrayStages()
        } else if lock == nil, wasLeader {
            rolloutTask?.cancel()
            rolloutTask = nil
            // Stop writing at once: the lock check in each transaction is the second line.
            requestWatchTask?.cancel()
            requestWatchTask = nil
            for task in running.values { task.cancel() }
        }
    }

    /// While leading, waits on the sync-request key with a blocking query and syncs what
    /// followers pass on. What was there before this replica took the lead is covered by the
    /// sync it runs on taking it.
    private func watchSyncRequests() {
        guard let kv = leadKV else { return }
        let key = repo.leadTarget.syncRequestKey
        let clock = context.clock
        let logger = logger
        requestWatchTask = Task { [weak self] in
            var index: UInt64?
            var failures = 0
            let backoff = Backoff(initial: .milliseconds(250), maximum: .seconds(5))
            while !Task.isCancelled {
                do {
                    let read = try await kv.get(key, options: KVReadOptions(waitIndex: index, waitTime: .seconds(60)))
                    failures = 0
                    if let seen = index, let entry = read.value, entry.modifyIndex > seen {
                        if let forwarded = ForwardedSyncRequest.decode(entry.value) {
                            await self?.received(forwarded)
                        } else {
                            logger.warning("unreadable sync request ignored", metadata: ["key": "\(key)"])
                        }
                    }
                    // An index that went back means the store was reset: start over.
                    index = (index.map { read.index < $0 } ?? false) ? nil : read.index
                } catch let error as KVError where error.kind == .cancelled {
                    return
                } catch {
                    failures += 1
                    if failures == 1 { logger.warning("cannot watch the sync-request key; webhooks on followers wait for polls", metadata: ["key": "\(key)", "error": "\(error)"]) }
                    index = nil
                    do { try await clock.sleep(for: backoff.delay(afterFailures: failures)) } catch { return }
                }
            }
        }
    }

    private func received(_ forwarded: ForwardedSyncRequest) {
        guard isLeader else { return }
        let triggers = triggers(for: forwarded.event)
        logger.info("sync requested by a follower", metadata: ["from": "\(forwarded.receivedBy)", "triggers": "\(triggers.map(\.description))"])
        if !triggers.isEmpty { _ = requestPushed(triggers, event: forwarded.event, cause: .forwarded) }
    }

    // MARK: Health

    /// Seconds since the last successful fetch (since start when none succeeded yet).
    func secondsSinceLastPoll() -> Double {
        (context.clock.now - (lastSuccessfulFetch ?? startedAt)).inSeconds
    }

    var hasFetched: Bool { lastSuccessfulFetch != nil }

    /// A follower is ready once its mirror is fetched; a leader once it has synced. A branch
    /// that cannot be resolved or a mirror that cannot be opened makes either not ready.
    var isReady: Bool { hasFetched && (role == "follower" || syncedSinceLeading) && !problems.blocksReadiness }

    /// No sync running or queued.
    var isIdle: Bool { coalescer.isIdle }

    // MARK: Staged rollouts

    /// While this replica writes (leads, or runs alone): looks at every staged rollout of the
    /// repo each tick, and moves it on (bake, halt, promotion). The stage lives in KV, so a new
    /// leader resumes it.
    private func superviseRollouts() {
        let rolled = repo.mappings.compactMap(\.rollout)
        guard !rolled.isEmpty, !stopping else { return }
        rolloutTask?.cancel()
        let interval = RolloutTick.interval(for: rolled)
        let clock = context.clock
        rolloutTask = Task { [weak self] in
            while !Task.isCancelled {
                // Its own task: stopping does not cut a promotion's transactions short.
                await Task { await self?.rolloutStep() }.value
                do { try await clock.sleep(for: interval) } catch { return }
            }
        }
    }

    /// Once per leadership: a mapping whose `rollout:` was removed may have left a stage behind.
    private func dropStrayStages() {
        let repo = repo
        let runner = context.runner
        let targets = repo.branches.flatMap { runner.targets(of: repo, reference: $0, isTag: false) }.filter { $0.mapping.rollout == nil }
        guard !targets.isEmpty else { return }
        let supervisor = RolloutSupervisor(runner: runner)
        let lock = leaderLock
        let logger = logger
        Task {
            for target in targets {
                let options = repo.writeOptions(for: target.mapping, lock: lock, throttle: nil)
                do {
                    if let stage = try await supervisor.dropStrayStage(target, options: options) {
                        logger.warning("the mapping has no rollout any more: its canary stage was dropped, canary nodes go back to the live commit", metadata: [
                            "prefix": "\(target.prefix)", "canary_commit": "\(stage.commit.prefix(12))",
                        ])
                    }
                } catch {
                    logger.warning("cannot check for a canary stage left behind", metadata: ["prefix": "\(target.prefix)", "error": "\(error)"])
                }
            }
        }
    }

    private func rolloutStep() async {
        guard isLeader, !stopping else { return }
        let supervisor = RolloutSupervisor(runner: context.runner, reportsCache: reportsCache)
        let lock = leaderLock
        let repo = repo
        for branch in repo.branches {
            for target in context.runner.targets(of: repo, reference: branch, isTag: false) where target.mapping.rollout != nil {
                guard isLeader, !stopping else { return }
                let options = repo.writeOptions(for: target.mapping, lock: lock, throttle: context.throttle)
                do {
                    let (step, unreadable) = try await supervisor.step(repo, target, options: options, now: Int64(Date().timeIntervalSince1970))
                    noteRolloutProblem(target, nil)
                    for problem in unreadable.prefix(3) { logger.debug("delivery report skipped", metadata: ["problem": "\(problem)"]) }
                    note(step, target: target)
                } catch {
                    noteRolloutProblem(target, error.description)
                }
            }
        }
    }

    private func noteRolloutProblem(_ target: MappingTarget, _ problem: String?) {
        guard rolloutProblems[target.prefix] != problem else { return }
        rolloutProblems[target.prefix] = problem
        if let problem {
            logger.error("cannot move the staged rollout on", metadata: ["prefix": "\(target.prefix)", "error": "\(problem)"])
        } else {
            logger.info("staged rollout reachable again", metadata: ["prefix": "\(target.prefix)"])
        }
    }

    private func note(_ step: RolloutSupervisor.Step, target: MappingTarget) {
        let metrics = context.metrics
        let prefix = "\(target.prefix)"
        switch step {
        case .idle:
            metrics.setRolloutStage(target, phase: nil, healthyCanaries: 0)
        case .waiting(let stage, let verdict):
            metrics.setRolloutStage(target, phase: stage.phase, healthyCanaries: verdict.healthy.count)
        case .frozen(let stage), .stillHalted(let stage):
            metrics.setRolloutStage(target, phase: stage.phase, healthyCanaries: 0)
        case .bakeStarted(let stage, let verdict):
            metrics.setRolloutStage(target, phase: stage.phase, healthyCanaries: verdict.healthy.count)
            metrics.recordRollout(target, event: "baking")
            logger.info("canary nodes delivered the commit; baking", metadata: [
                "prefix": "\(prefix)", "commit": "\(stage.commit.prefix(12))", "healthy": "\(verdict.healthy.joined(separator: ","))",
                "bake": "\(target.mapping.rollout?.bake ?? .zero)",
            ])
        case .bakeReset(let stage, let verdict):
            metrics.setRolloutStage(target, phase: stage.phase, healthyCanaries: verdict.healthy.count)
            logger.warning("fewer canary nodes on the commit than needed; the bake starts over", metadata: [
                "prefix": "\(prefix)", "commit": "\(stage.commit.prefix(12))", "pending": "\(verdict.pending.joined(separator: ","))",
            ])
        case .halted(let stage, let reason):
            metrics.setRolloutStage(target, phase: stage.phase, healthyCanaries: 0)
            metrics.recordRollout(target, event: "halted")
            metrics.setFrozen(target, true)
            logger.error("canary failed; the commit stays off the fleet and the prefix is frozen", metadata: [
                "prefix": "\(prefix)", "commit": "\(stage.commit.prefix(12))", "reason": "\(reason)",
            ])
        case .promoted(let stage, let result, let byUnfreeze):
            metrics.setRolloutStage(target, phase: nil, healthyCanaries: 0)
            metrics.recordRollout(target, event: "promoted")
            metrics.recordWritten(target, bundles: result.plan.writes.count, deletes: result.plan.deletes.count, bytes: result.bytesWritten)
            logger.info(byUnfreeze ? "unfrozen by an operator; halted canary commit promoted to the fleet" : "canary stage passed; commit promoted to the fleet", metadata: [
                "prefix": "\(prefix)", "commit": "\(stage.commit.prefix(12))", "written": "\(result.plan.writes.count)",
                "deleted": "\(result.plan.deletes.count)",
            ])
        }
    }
}

/// How often the leader looks at a staged rollout: a quarter of the shortest bake, between
/// half a second and five seconds (one read of the stage per tick; the reports only while a
/// stage exists).
enum RolloutTick {
    static func interval(for rollouts: [RolloutConfig]) -> Duration {
        let shortest = rollouts.map(\.bake).min() ?? .seconds(20)
        return min(max(shortest / 4, .milliseconds(500)), .seconds(5))
    }
}
