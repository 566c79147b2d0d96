import BundleFormat
import Foundation
public import KV
public import Logging
public import ServiceLifecycle
import Leadership

/// `git2kv hosts`: of the generators running, the one holding the lock builds the hosts file
/// from the catalog whenever its services or a check's state change, or the stop key is set or
/// deleted (all watched with blocking queries; `refresh` is only a safety net), and publishes it
/// as a bundle, only when its content changed. Every write carries a check that the lock is
/// still held.
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
        var published: PublishedHosts?
        let backoff = Backoff(initial: .milliseconds(500), maximum: config.refresh)
        var watched: WatchIndexes?
        var failures = 0
        while !Task.isCancelled {
            do throws(RenderError) {
                if let watched { try await waitForChange(after: watched) }
                // Where the stop key and the health checks stand before the catalog is read:
                // whatever changes after this wakes the next wait.
                let beforeSnapshot = try await currentIndexes()
                let (entities, catalogIndex, summary) = try await snapshot()
                if Task.isCancelled { return }
                watched = WatchIndexes(catalog: catalogIndex, stopKey: beforeSnapshot.stopKey, health: beforeSnapshot.health)
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
                lastError = nil
                failures = 0
            } catch {
                if Task.isCancelled { return }
                failures += 1
                lastError = error
                logger.error("hosts file not published; the last one stays", metadata: ["key": "\(key)", "error": "\(error.message)"])
                watched = nil
                try? await clock.sleep(for: backoff.delay(afterFailures: failures))
            }
        }
    }

    /// The check states whose changes matter to the hosts file (an instance is in it only
    /// while all its checks pass): a check entering or leaving either moves its index.
    static let watchedCheckStates = ["critical", "warning"]

    /// Where each watched thing stood when the hosts file was last built.
    struct WatchIndexes: Sendable {
        var catalog: UInt64
        var stopKey: UInt64?
        var health: [String: UInt64]
    }

    private func currentIndexes() async throws(RenderError) -> WatchIndexes {
        var indexes = WatchIndexes(catalog: 0, stopKey: nil, health: [:])
        do {
            if let stopKey = config.stopKey { indexes.stopKey = try await kv.get(stopKey).index }
            for state in Self.watchedCheckStates {
                indexes.health[state] = try await catalog.checkCount(inState: state, options: .default).index
            }
        } catch {
            throw RenderError(.kv, "cannot read the stop key or the catalog's health: \(error)")
        }
        return indexes
    }

    /// Waits until the catalog's services, a check's state or the stop key change after
    /// `indexes` (blocking queries, all at once), or `refresh` passes.
    private func waitForChange(after indexes: WatchIndexes) async throws(RenderError) {
        let catalog = self.catalog
        let kv = self.kv
        let refresh = config.refresh
        let stopKey = config.stopKey
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { _ = try await catalog.services(options: KVReadOptions(waitIndex: indexes.catalog, waitTime: refresh)) }
                for (state, index) in indexes.health {
                    group.addTask { _ = try await catalog.checkCount(inState: state, options: KVReadOptions(waitIndex: index, waitTime: refresh)) }
                }
                if let stopKey, let index = indexes.stopKey {
                    group.addTask { _ = try await kv.get(stopKey, options: KVReadOptions(waitIndex: index, waitTime: refresh)) }
                }
                defer { group.cancelAll() }
                try await group.next()
            }
        } catch {
            throw RenderError(.kv, "cannot watch the catalog\(stopKey.map { " and the stop key \($0)" } ?? ""): \(error)")
        }
    }

    /// The hosts file from the catalog as it is now, and the catalog's index. The catalog is
    /// read in several requests; when it moved meanwhile (a node deregistered between the node
    /// list and the instances), the reads are repeated so the file never mixes two catalogs.
    private func snapshot() async throws(RenderError) -> ([HostsEntity], UInt64, String) {
        do {
            var services = try await catalog.services(options: .default)
            var attempt = 0
            while true {
                attempt += 1
                let nodes = try await catalog.nodes(options: .default)
                var instances: [ServiceInstance] = []
                for name in services.value.keys.sorted() {
                    instances += try await catalog.instances(of: name, passingOnly: true, options: .default).value
                }
                let after = try await catalog.services(options: .default)
                if after.index != services.index, attempt < Self.snapshotAttempts {
                    services = after
                    continue
                }
                let entities = HostsFile.entities(instances: instances, nodes: nodes.value)
                let summary = "hosts from the catalog: \(services.value.count) services, \(instances.count) passing instances, \(nodes.value.count) nodes"
                return (entities, services.index, summary)
            }
        } catch {
            throw RenderError(.kv, "cannot read the catalog: \(error)")
        }
    }

    /// Reads of a catalog that keeps moving: after this many, the last one is published (the
    /// next wake reads it again).
    static let snapshotAttempts = 5

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
