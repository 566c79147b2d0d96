import BundleFormat
import Foundation
public import KV
public import Logging
public import ServiceLifecycle
import Leadership

/// `git2kv hosts`: of the generators running, the one holding the lock keeps a mirror of the
/// catalog current (blocking queries on the service list, the failing checks, the nodes and the
/// stop key; a health change re-reads only its service, see `CatalogMirror`) and publishes the
/// hosts data whenever it changed: sharded (only changed shards and the manifest are written)
/// or as one bundle. `refresh` re-reads everything as a safety net and publishes nothing when
/// nothing changed. Every write carries a check that the lock is still held.
public actor HostsGenerator {
    public let config: PublisherConfig
    private let kv: any KVStore & KVLocking
    private let catalog: any ServiceCatalog
    private let logger: Logger
    private let clock: ServiceClock
    private let key: String
    private let lockKey: String
    private var publishing: Task<Void, Never>?
    /// What the last publish attempt that reached KV did (a long-running generator keeps no history).
    public private(set) var lastOutcome: PublishOutcome?
    public private(set) var isLeader = false
    /// Why the last attempt did not publish (a guard, KV or the catalog), until one succeeds.
    public private(set) var lastError: RenderError?
    /// How many `refresh` re-listings were done while leading.
    public private(set) var refreshes = 0

    public init(
        config: PublisherConfig, kv: any KVStore & KVLocking, catalog: any ServiceCatalog, logger: Logger, clock: ServiceClock = .continuous
    ) throws(RenderError) {
        guard let key = config.key else { throw RenderError(.state, "\(config.file): hosts needs key (the bundle key to publish at)") }
        self.clock = clock
        self.config = config
        self.kv = kv
        self.catalog = catalog
        self.logger = logger
        self.key = key
        self.lockKey = config.lockKey ?? key + ".lock"
    }

    /// Campaigns and, while leading, publishes; until graceful shutdown (or cancellation), then
    /// resigns at once (lock released, session destroyed) so another generator takes over.
    public func run() async {
        let election = LeaderElection(
            role: "hosts \(key)", lockKey: lockKey, kv: kv, ttl: config.sessionTTL, lockDelay: config.lockDelay, clock: clock, logger: logger
        ) { lock in await self.leadershipChanged(lock) }
        await cancelWhenGracefulShutdown { await election.run() }
        publishing?.cancel()
        await publishing?.value
    }

    /// A stale publisher is cancelled, not awaited (it may sit in a blocking query); its writes
    /// would fail the session check anyway.
    private func leadershipChanged(_ lock: LeaderLock?) {
        publishing?.cancel()
        publishing = nil
        isLeader = lock != nil
        guard let lock else { return }
        publishing = Task { await self.publishWhileLeading(lock) }
    }

    private func publishWhileLeading(_ lock: LeaderLock) async {
        // The lock, not a node, owns the key: whichever generator holds it writes (and takes
        // over from bundles older versions recorded under a host name).
        let owner = "git2kv hosts (\(lock.key))"
        let guards: [KVOperation] = [.checkSession(key: lock.key, session: lock.session)]
        let bundlePublisher = BundlePublisher(store: kv, key: key, minLines: config.minLines, stopKey: config.stopKey, owner: owner, takeOver: true)
        let shardedPublisher = ShardedHostsPublisher(
            store: kv, key: key, fileName: config.fileName, domain: config.domain, shardCount: config.shards, minLines: config.minLines,
            stopKey: config.stopKey, owner: owner)
        let updates = CatalogUpdates()
        let watches = Task { await self.watchCatalog(into: updates) }
        defer {
            watches.cancel()
            updates.finish()
        }
        var signals = updates.signals.makeAsyncIterator()
        var mirror = CatalogMirror()
        var published: PublishedHosts?
        var needsPublish = true
        var relistDue = false
        var failures = 0
        let backoff = Backoff(initial: .milliseconds(500), maximum: config.refresh)
        while !Task.isCancelled {
            let hasWork = mirror.services != nil && mirror.nodes != nil && (needsPublish || relistDue || !mirror.stale.isEmpty)
            if !hasWork {
                guard await signals.next() != nil else { return }
            }
            for update in await settledUpdates(updates) {
                switch update {
                case .services(let list, let index): mirror.listed(services: list, index: index)
                case .failing(let state, let checks): mirror.listed(failing: checks, inState: state)
                case .nodes(let list): mirror.listed(nodes: list)
                case .stopKey: break
                case .refresh:
                    relistDue = true
                    continue
                case .watchFailed(let what, let error, let retryIn):
                    lastError = RenderError(.kv, "cannot watch \(what): \(error)")
                    logger.warning("cannot watch the catalog; the hosts file stays", metadata: ["what": "\(what)", "error": "\(error)", "retry_in": "\(retryIn)"])
                    continue
                }
                needsPublish = true
            }
            guard mirror.services != nil, mirror.nodes != nil else { continue }
            do throws(RenderError) {
                if relistDue {
                    // Also a publish: it writes nothing when KV holds the same, and repairs
                    // hosts data that was deleted or damaged under the key.
                    try await relist(into: &mirror)
                    relistDue = false
                    refreshes += 1
                    needsPublish = true
                }
                try await readStale(into: &mirror)
                if Task.isCancelled { return }
                let summary = "hosts from the catalog: \(mirror.services?.count ?? 0) services, \(mirror.nodes?.count ?? 0) nodes"
                let entities = mirror.entities()
                let outcome: PublishOutcome
                switch config.layout {
                case .sharded:
                    outcome = try await shardedPublisher.publish(entities, summary: summary, guards: guards, known: &published)
                case .bundle:
                    let content = HostsText.render(entities, domain: config.domain)
                    outcome = try await bundlePublisher.publish(
                        [BundleFile(path: config.fileName, content: Array(content.utf8))],
                        source: BundleSource(repo: "git2kv-hosts", branch: "", path: key), summary: summary, guards: guards)
                }
                record(outcome)
                needsPublish = false
                lastError = nil
                failures = 0
            } catch {
                if Task.isCancelled { return }
                failures += 1
                lastError = error
                logger.error("hosts file not published; the last one stays", metadata: ["key": "\(key)", "error": "\(error.message)"])
                try? await clock.sleep(for: backoff.delay(afterFailures: failures))
            }
        }
    }

    /// The updates so far, and those that follow within `quietPeriod` of each other (at most
    /// `quietLimit` in all): one catalog change moves several tables (a node leaving takes its
    /// instances and checks), and their watches answer separately; publishing after the first
    /// would publish a catalog that never was.
    private func settledUpdates(_ updates: CatalogUpdates) async -> [CatalogUpdate] {
        var batch = updates.take()
        let start = clock.now
        while clock.now - start < Self.quietLimit {
            do { try await clock.sleep(for: Self.quietPeriod) } catch { break }
            let more = updates.take()
            if more.isEmpty { break }
            batch += more
        }
        return batch
    }

    static let quietPeriod: Duration = .milliseconds(100)
    static let quietLimit: Duration = .seconds(1)

    /// The check states whose changes matter to the hosts file (an instance is in it only
    /// while all its checks pass): a check entering or leaving either names its service.
    static let watchedCheckStates = ["critical", "warning"]

    /// Blocking queries on the service list, the failing checks, the nodes and the stop key,
    /// each in its own loop (one slow or failing never holds the others), plus the `refresh`
    /// timer; every answer whose index moved becomes an update. Idle, that is one request per
    /// watch per `refresh`.
    private func watchCatalog(into updates: CatalogUpdates) async {
        let catalog = self.catalog
        let policy = WatchPolicy(waitTime: config.refresh, minimumSpacing: .milliseconds(100), backoff: Backoff(initial: .milliseconds(500), maximum: .seconds(30)))
        let clock = self.clock
        let refresh = config.refresh
        await withTaskGroup(of: Void.self) { group in
            func watch<Value: Sendable>(_ what: String, _ read: @escaping KVWatch<Value>.Read, _ update: @escaping @Sendable (KVRead<Value>) -> CatalogUpdate) {
                group.addTask {
                    await KVWatch(policy: policy, clock: clock, read: read).run { result in
                        switch result {
                        case .value(let read): updates.add(update(read))
                        case .unchanged: break
                        case .failure(let error, let retryIn): updates.add(.watchFailed(what: what, error, retryIn: retryIn))
                        }
                    }
                }
            }
            watch("the service list", { options throws(KVError) in try await catalog.services(options: options) }) { .services($0.value, index: $0.index) }
            watch("the node list", { options throws(KVError) in try await catalog.nodes(options: options) }) { .nodes($0.value) }
            for state in Self.watchedCheckStates {
                watch("\(state) checks", { options throws(KVError) in try await catalog.checks(inState: state, options: options) }) {
                    .failing(state: state, $0.value)
                }
            }
            if let stopKey = config.stopKey {
                let kv = self.kv
                watch("the stop key \(stopKey)", { options throws(KVError) in try await kv.get(stopKey, options: options) }) { _ in .stopKey }
            }
            group.addTask {
                while (try? await clock.sleep(for: refresh)) != nil { updates.add(.refresh) }
            }
        }
    }

    /// The `refresh` safety net: the listings read again (four requests) and compared with the
    /// mirror; services are read again only if the service table moved without the watch
    /// saying so.
    private func relist(into mirror: inout CatalogMirror) async throws(RenderError) {
        do {
            let services = try await catalog.services(options: .default)
            mirror.relisted(services: services.value, index: services.index)
            mirror.listed(nodes: try await catalog.nodes(options: .default).value)
            for state in Self.watchedCheckStates {
                mirror.listed(failing: try await catalog.checks(inState: state, options: .default).value, inState: state)
            }
        } catch {
            throw RenderError(.kv, "cannot read the catalog: \(error)")
        }
    }

    /// Reads the instances of every stale service, `concurrentReads` at a time. Every read that
    /// succeeded updates the mirror; the first failure is thrown afterwards.
    private func readStale(into mirror: inout CatalogMirror) async throws(RenderError) {
        let catalog = self.catalog
        let names = mirror.stale.sorted()
        guard !names.isEmpty else { return }
        let reads = await concurrentMap(names, width: Self.concurrentReads) { name -> Result<[ServiceInstance], KVError> in
            do throws(KVError) {
                return .success(try await catalog.instances(of: name, passingOnly: false, options: .default).value)
            } catch {
                return .failure(error)
            }
        }
        var failure: KVError?
        for (name, read) in zip(names, reads) {
            switch read {
            case .success(let list): mirror.read(list, of: name)
            case .failure(let error): failure = failure ?? error
            }
        }
        if let failure { throw RenderError(.kv, "cannot read the catalog: \(failure)") }
    }

    /// Service reads in flight at once while catching up.
    static let concurrentReads = 16

    private func record(_ outcome: PublishOutcome) {
        lastOutcome = outcome
        switch outcome {
        case .published(let digest): logger.info("hosts file published", metadata: ["key": "\(key)", "digest": "\(digest.prefix(12))"])
        case .unchanged: logger.debug("hosts file unchanged", metadata: ["key": "\(key)"])
        case .stopped(let reason): logger.warning("hosts file not published", metadata: ["key": "\(key)", "reason": "\(reason)"])
        }
    }
}

extension HostsGenerator: Service {}
