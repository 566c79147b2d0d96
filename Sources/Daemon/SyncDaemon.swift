import Foundation
public import KV
public import Logging
public import Pipeline
import Secrets
import ConfigParsing
import Leadership

/// `git2kv serve` without its HTTP port: one worker per repo, the shared write limits, the
/// webhook verifiers, health and status. Reloading swaps the configuration only when the new
/// one is whole.
public actor SyncDaemon {
    public let metrics: DaemonMetrics
    let logger: Logger
    public private(set) var config: DaemonConfig
    private var workers: [String: RepoWorker] = [:]
    private var verifiers: [String: WebhookVerifier] = [:]
    /// Per repo, the delivery ids of webhooks handled (redeliveries and replays do nothing).
    private var deliveries: [String: RecentDeliveries] = [:]
    private var throttle: TokenBucket
    private var concurrency: ConcurrencyLimit
    private let clock: ServiceClock
    private let fetcher: MirrorFetcher

    public init(
        config: DaemonConfig, logger: Logger, metrics: DaemonMetrics = DaemonMetrics(), clock: ServiceClock = .continuous,
        fetcher: MirrorFetcher = .inProcess
    ) {
        self.config = config
        self.fetcher = fetcher
        self.logger = logger
        self.metrics = metrics
        self.clock = clock
        throttle = TokenBucket(operationsPerSecond: config.serve.kvOperationsPerSecond, burst: config.serve.kvOperationsBurst, clock: clock)
        concurrency = ConcurrencyLimit(config.serve.concurrentSyncs)
    }

    /// Reads webhook secrets and opens every repo's worker; fails, starting nothing, when the
    /// configuration cannot run (an unreadable secret or token, or with HA a token that may
    /// not create sessions).
    public func start() async throws(DaemonError) {
        let verifiers = try Self.verifiers(for: config)
        let workers = try makeWorkers(config)
        try await checkLeadershipPermissions(config)
        self.verifiers = verifiers
        self.workers = workers
        for worker in workers.values {
            do { try await worker.start() } catch { throw DaemonError("repo \(worker.repo.name): \(error)") }
        }
        logger.info("serving", metadata: ["repos": "\(config.repos.map(\.name).joined(separator: ","))", "config": "\(config.file)"])
    }

    /// Applies a new configuration: repos that changed are stopped (finishing their running
    /// syncs) and started anew; unchanged ones keep running. A configuration whose secrets or
    /// tokens cannot be read is refused and the running one stays.
    public func reload(_ new: DaemonConfig) async throws(DaemonError) {
        let newVerifiers = try Self.verifiers(for: new)
        for repo in new.repos { try Self.checkTokens(repo, config: new) }
        try await checkLeadershipPermissions(new)
        if new.serve.listen != config.serve.listen {
            logger.warning("http.listen changed; the new address takes effect after a restart", metadata: ["listen": "\(new.serve.listen)"])
        }
        let globalChange = new.kv != config.kv || new.stateDirectory != config.stateDirectory || new.serve != config.serve
        if new.serve.kvOperationsPerSecond != config.serve.kvOperationsPerSecond || new.serve.kvOperationsBurst != config.serve.kvOperationsBurst {
            throttle = TokenBucket(operationsPerSecond: new.serve.kvOperationsPerSecond, burst: new.serve.kvOperationsBurst, clock: clock)
        }
        if new.serve.concurrentSyncs != config.serve.concurrentSyncs { concurrency = ConcurrencyLimit(new.serve.concurrentSyncs) }
        var kept: [String: RepoWorker] = [:]
        for (name, worker) in workers {
            if !globalChange, let repo = new.repos.first(where: { $0.name == name }), repo == worker.repo {
                kept[name] = worker
            } else {
                await worker.stop()
            }
        }
        config = new
        verifiers = newVerifiers
        for repo in new.repos where kept[repo.name] == nil {
            let worker = RepoWorker(repo: repo, context: context)
            do { try await worker.start() } catch { logger.error("repo did not start", metadata: ["repo": "\(repo.name)", "error": "\(error)"]) }
            kept[repo.name] = worker
        }
        workers = kept
        logger.info("configuration reloaded", metadata: ["config": "\(new.file)", "repos": "\(new.repos.count)"])
    }

    /// Stops every worker: no new syncs, running fetches killed (a remote may never answer),
    /// running transactions finished, locks released.
    public func shutdown() async {
        if case .isolated(let fetcher) = fetcher { fetcher.stopAll() }
        for worker in workers.values { await worker.stop() }
        workers = [:]
        logger.info("stopped")
    }

    private var context: DaemonContext {
        DaemonContext(
            config: config, metrics: metrics, throttle: throttle, concurrency: concurrency, logger: logger, clock: clock, fetcher: fetcher)
    }

    /// With HA, every repo's lead token must be allowed to create sessions; say which is not.
    private func checkLeadershipPermissions(_ config: DaemonConfig) async throws(DaemonError) {
        guard config.serve.highAvailability else { return }
        var checked: Set<SecretSource?> = []
        for repo in config.repos {
            let mapping = repo.leadTarget.mapping
            let token = mapping.token ?? config.kv.token
            guard checked.insert(token).inserted else { continue }
            let kv: any KVStore & KVLocking
            do { kv = try KVConnection.open(config.kv, token: token) } catch { throw DaemonError("repo \(repo.name): \(error)") }
            do {
                try await LeaderElection.checkPermissions(kv: kv, tokenOrigin: RepoWorker.tokenOrigin(mapping, config), role: "serve repo \(repo.name)")
            } catch {
                throw DaemonError("\(error.description)")
            }
        }
    }

    private func makeWorkers(_ config: DaemonConfig) throws(DaemonError) -> [String: RepoWorker] {
        var workers: [String: RepoWorker] = [:]
        for repo in config.repos {
            try Self.checkTokens(repo, config: config)
            workers[repo.name] = RepoWorker(repo: repo, context: context)
        }
        return workers
    }

    /// Fails unless every token the repo's mappings use can be read.
    private static func checkTokens(_ repo: RepoConfig, config: DaemonConfig) throws(DaemonError) {
        for mapping in repo.mappings {
            guard let source = mapping.token ?? config.kv.token else { continue }
            do { _ = try source.read() } catch { throw DaemonError("repo \(repo.name), \(mapping.origin): KV token: \(error)") }
        }
    }

    private static func verifiers(for config: DaemonConfig) throws(DaemonError) -> [String: WebhookVerifier] {
        var verifiers: [String: WebhookVerifier] = [:]
        for repo in config.repos {
            guard let webhook = repo.webhook else { continue }
            do {
                verifiers[repo.name] = WebhookVerifier(provider: webhook.provider, secret: try webhook.secret.read())
            } catch {
                throw DaemonError("repo \(repo.name): webhook secret: \(error)")
            }
        }
        return verifiers
    }

    // MARK: Requests from the HTTP port

    /// Verifies a webhook for `repoName` and triggers the syncs it asks for.
    public func receiveWebhook(repo repoName: String, _ request: WebhookRequest) async -> WebhookResponse {
        guard let worker = workers[repoName] else {
            metrics.recordWebhook(provider: "unknown", outcome: "unknown_repo")
            return WebhookResponse(status: 404, message: "no repo named \(repoName) is configured")
        }
        guard let verifier = verifiers[repoName] else {
            metrics.recordWebhook(provider: "none", outcome: "not_configured")
            return WebhookResponse(status: 404, message: "repo \(repoName) has no webhook configured")
        }
        let provider = verifier.provider.rawValue
        let intent: WebhookIntent
        do {
            intent = try verifier.verify(request)
        } catch {
            metrics.recordWebhook(provider: provider, outcome: error.kind.rawValue)
            logger.warning("webhook refused", metadata: ["repo": "\(repoName)", "provider": "\(provider)", "reason": "\(error)"])
            switch error.kind {
            case .unsigned: return WebhookResponse(status: 401, message: error.message)
            case .forged: return WebhookResponse(status: 403, message: error.message)
            case .malformed: return WebhookResponse(status: 400, message: error.message)
            }
        }
        switch intent {
        case .ignored(let what):
            metrics.recordWebhook(provider: provider, outcome: "ignored")
            return WebhookResponse(status: 202, message: "\(what): nothing to sync")
        case .push(let event):
            let delivery = request.deliveryID
            if let delivery, deliveries[repoName]?.contains(delivery) == true {
                metrics.recordWebhook(provider: provider, outcome: "duplicate")
                return WebhookResponse(status: 200, message: "delivery \(delivery) was handled already: nothing to do")
            }
            let handling = await worker.handle(event)
            if let delivery, !handling.asksForRedelivery { deliveries[repoName, default: RecentDeliveries()].insert(delivery) }
            switch handling {
            case .nothingToDo:
                metrics.recordWebhook(provider: provider, outcome: "ignored")
                return WebhookResponse(status: 202, message: "the push changed no branch or tag this repo follows, or its head is live already")
            case .syncing(let decisions):
                metrics.recordWebhook(provider: provider, outcome: "accepted")
                let summary = decisions.map { "\($0.key): \(Self.describe($0.value))" }.sorted().joined(separator: ", ")
                return WebhookResponse(status: 202, message: "this replica leads \(repoName): \(summary)")
            case .forwarded(let key, let leader):
                metrics.recordWebhook(provider: provider, outcome: "forwarded")
                let who = leader.map { "the leader (\($0))" } ?? "the next leader (none holds the lock right now; it syncs on taking it)"
                return WebhookResponse(
                    status: 202, message: "this replica does not lead \(repoName): the request was passed to \(who) through \(key); this replica syncs nothing itself")
            case .notForwarded(let reason):
                metrics.recordWebhook(provider: provider, outcome: "not_forwarded")
                return WebhookResponse(
                    status: 503, message: "this replica does not lead \(repoName) and could not pass the request to the leader (\(reason)); send it again")
            }
        }
    }

    public func health() async -> HealthReport {
        var report = HealthReport()
        report.kvReachable = await kvReachable()
        for repo in config.repos {
            guard let worker = workers[repo.name] else { continue }
            let age = await worker.secondsSinceLastPoll()
            let limit = max(3 * repo.pollInterval.inSeconds, 60)
            let ready = await worker.isReady
            let leadershipProblem = await worker.leadershipProblem()
            let problems = (leadershipProblem.map { ["leadership: \($0)"] } ?? []) + (await worker.problems.descriptions)
            report.repos.append(
                .init(
                    name: repo.name, role: await worker.role, secondsSinceLastPoll: age,
                    pollCurrent: ready && age <= limit && leadershipProblem == nil, problems: problems))
            for branch in repo.branches { metrics.setSecondsSincePoll(repo: repo.name, reference: branch, age) }
        }
        metrics.setUp(report.ready)
        return report
    }

    /// What `git2kv status` shows, from the mirrors as they are (no fetch), with what keeps
    /// each repo from syncing (a failing fetch, an unresolvable branch) as its mappings' problem.
    public func statuses() async -> [MappingStatus] {
        var runner = SyncRunner(config: config, fetcher: fetcher)
        runner.fetch = false
        var statuses = await runner.statuses().statuses
        for index in statuses.indices {
            guard let worker = workers[statuses[index].repo] else { continue }
            let repoProblems = await worker.problems.descriptions
            guard !repoProblems.isEmpty else { continue }
            statuses[index].problem = ([statuses[index].problem].compactMap { $0 } + repoProblems).joined(separator: "; ")
        }
        return statuses
    }

    /// True when no sync of the repo is running or queued (for tests and benchmarks).
    public func isIdle(repo: String) async -> Bool {
        await workers[repo]?.isIdle ?? true
    }

    /// Sync passes carried out for a repo (for tests and benchmarks).
    public func passes(of repo: String) async -> Int {
        await workers[repo]?.passes ?? 0
    }

    private static func describe(_ decision: SyncCoalescer<SyncTrigger>.Decision) -> String {
        switch decision {
        case .start: "sync started"
        case .queued: "sync queued after the running one"
        case .coalesced: "covered by the sync already queued"
        }
    }

    private func kvReachable() async -> Bool {
        guard let repo = config.repos.first else { return true }
        let target = repo.leadTarget
        guard let kv = try? KVConnection.open(config.kv, token: target.mapping.token) else { return false }
        do {
            _ = try await kv.get(target.stateKey)
            return true
        } catch {
            metrics.recordKVError(kind: error.kind.rawValue)
            return false
        }
    }
}

/// The daemon could not start or reload.
public struct DaemonError: Error, Sendable, CustomStringConvertible {
    public let message: String
    init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// The answer to a webhook.
public struct WebhookResponse: Sendable, Equatable {
    public let status: Int
    public let message: String
}
