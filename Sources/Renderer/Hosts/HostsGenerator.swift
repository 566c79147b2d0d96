import BundleFormat
import Foundation
public import KV
public import Logging
public import ServiceLifecycle
import Leadership

/// `git2kv hosts`: of the generators running, the one holding the lock builds the hosts file
/// from the catalog whenever it changes (health within `refresh`) and publishes it as a bundle,
/// only when its content changed. Every write carries a check that the lock is still held.
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
        var failures = 0
        while !Task.isCancelled {
            do throws(RenderError) {
                let (content, catalogIndex, summary) = try await snapshot(after: index)
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
                try? await clock.sleep(for: backoff.delay(afterFailures: failures))
            }
        }
    }

    /// The hosts file once the catalog moved past `index` (or `refresh` passed).
    private func snapshot(after index: UInt64?) async throws(RenderError) -> (String, UInt64, String) {
        do {
            let services = try await catalog.services(options: KVReadOptions(waitIndex: index, waitTime: config.refresh))
            let nodes = try await catalog.nodes(options: .default)
            var instances: [ServiceInstance] = []
            for name in services.value.keys.sorted() {
                instances += try await catalog.instances(of: name, passingOnly: true, options: .default).value
            }
            let content = HostsFile.build(instances: instances, nodes: nodes.value, domain: config.domain)
            let summary = "hosts from the catalog: \(services.value.count) services, \(instances.count) passing instances, \(nodes.value.count) nodes"
            return (content, services.index, summary)
        } catch {
            throw RenderError(.kv, "cannot read the catalog: \(error)")
        }
    }

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
