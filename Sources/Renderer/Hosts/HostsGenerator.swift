import BundleFormat
import Foundation
public import KV
public import Logging
public import ServiceLifecycle
import Leadership

/// `git2kv hosts`: of the generators running, the one holding the lock builds the hosts file
/// from the catalog whenever it changes (health within `refresh`) or the stop key is set or
/// deleted, and publishes it as a bundle, only when its content changed. Every write carries a check that the lock is still held.
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
        let publisher = BundlePublisher(
            store: kv, key: key, minLines: config.minLines, stopKey: config.stopKey, owner: "git2kv hosts (\(lock.key))", takeOver: true)
        let backoff = Backoff(initial: .milliseconds(500), maximum: config.refresh)
        var index: UInt64?
        var stopIndex: UInt64?
        var failures = 0
        while !Task.isCancelled {
            do throws(RenderError) {
                if let index {
                    stopIndex = try await waitForChange(catalogAfter: index, stopKeyAfter: stopIndex)
                }
                if stopIndex == nil, let stopKey = config.stopKey { stopIndex = try await stopKeyIndex(stopKey) }
                let (content, catalogIndex, summary) = try await snapshot()
                if Task.isCancelled { return }
                index = catalogIndex
                let outcome = try await publisher.publish(
                    [BundleFile(path: config.fileName, content: Array(content.utf8))],
                    source: BundleSource(repo: "git2kv-hosts", branch: "", path: key), summary: summary,
                    guards: [.checkSession(key: lock.key, session: lock.session)])
                record(outcome)
                lastError = nil
                failures = 0
            } catch {
                if Task.isCancelled { return }
                failures += 1
                lastError = error
                logger.error("hosts file not published; the last one stays", metadata: ["key": "\(key)", "error": "\(error.message)"])
                index = nil
                stopIndex = nil
                try? await clock.sleep(for: backoff.delay(afterFailures: failures))
            }
        }
    }

    /// Waits until the catalog moves past `catalogAfter`, the stop key changes after
    /// `stopKeyAfter` (set or deleted), or `refresh` passes; returns the stop key's index.
    private func waitForChange(catalogAfter index: UInt64, stopKeyAfter stopIndex: UInt64?) async throws(RenderError) -> UInt64? {
        let catalog = self.catalog
        let kv = self.kv
        let refresh = config.refresh
        let stopKey = config.stopKey
        do {
            return try await withThrowingTaskGroup(of: UInt64?.self) { group in
                group.addTask {
                    _ = try await catalog.services(options: KVReadOptions(waitIndex: index, waitTime: refresh))
                    return stopIndex
                }
                if let stopKey, let stopIndex {
                    group.addTask { try await kv.get(stopKey, options: KVReadOptions(waitIndex: stopIndex, waitTime: refresh)).index }
                }
                defer { group.cancelAll() }
                return try await group.next() ?? stopIndex
            }
        } catch {
            throw RenderError(.kv, "cannot watch the catalog\(stopKey.map { " and the stop key \($0)" } ?? ""): \(error)")
        }
    }

    private func stopKeyIndex(_ stopKey: String) async throws(RenderError) -> UInt64 {
        do {
            return try await kv.get(stopKey).index
        } catch {
            throw RenderError(.kv, "cannot read the stop key \(stopKey): \(error)")
        }
    }

    /// The hosts file from the catalog as it is now, and the catalog's index. The catalog is
    /// read in several requests; when it moved meanwhile (a node deregistered between the node
    /// list and the instances), the reads are repeated so the file never mixes two catalogs.
    private func snapshot() async throws(RenderError) -> (String, UInt64, String) {
        do {
            var attempt = 0
            while true {
                attempt += 1
                let services = try await catalog.services(options: .default)
                let nodes = try await catalog.nodes(options: .default)
                var instances: [ServiceInstance] = []
                for name in services.value.keys.sorted() {
                    instances += try await catalog.instances(of: name, passingOnly: true, options: .default).value
                }
                let after = try await catalog.services(options: .default)
                if after.index != services.index, attempt < Self.snapshotAttempts { continue }
                let content = HostsFile.build(instances: instances, nodes: nodes.value, domain: config.domain)
                let summary = "hosts from the catalog: \(services.value.count) services, \(instances.count) passing instances, \(nodes.value.count) nodes"
                return (content, services.index, summary)
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
