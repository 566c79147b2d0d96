public import KV
import BundleFormat
public import Logging
import Foundation

/// Keeps one configuration's outputs current: one blocking query per bundle key, each value
/// verified as it arrives, changes debounced into render passes. The first pass does not wait.
public actor RenderWatcher {
    private let outputs: OutputSet
    private let store: any KVStore
    private let reader: BundleReader
    private let logger: Logger
    private let metrics: RendererMetrics?
    private var state: RenderState
    private var bundles: [String: Result<VerifiedBundle, RenderError>] = [:]
    /// With `canary: true`: each bundle's canary value while a staged rollout has one (by bundle key).
    private var canaryBundles: [String: Result<VerifiedBundle, RenderError>] = [:]
    private let reporter: DeliveryReporter?
    private var answered: Set<String> = []
    private var dirty: Set<String> = []
    private var debounce: Debounce
    private let clock: ServiceClock
    private var firstPassDone = false
    private let signal = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    /// When each bundle's query last came back (clock time), and when the watcher started.
    private var lastAnswer: [String: Duration] = [:]
    private var startedAt: Duration?
    private let policy: WatchPolicy
    /// A command that failed stays owed; it is retried on this schedule (and on every change).
    static let commandBackoff = Backoff(initial: .seconds(5), maximum: .seconds(300))
    private var retryOwedCommands = false
    private var retryTask: Task<Void, Never>?
    /// Fired when the watcher stops: a command's splay ends early (the command stays owed).
    private let stopping = StopSignal()
    /// Render passes finished, for tests and status.
    public private(set) var passes = 0
    public private(set) var lastReport: RenderReport?

    public init(
        outputs: OutputSet, store: any KVStore, state: RenderState, logger: Logger, metrics: RendererMetrics? = nil, clock: ServiceClock = .continuous
    ) {
        self.clock = clock
        self.outputs = outputs
        self.store = store
        self.reader = BundleReader(store: store, config: outputs.config)
        self.logger = logger
        self.metrics = metrics
        self.state = state
        self.debounce = Debounce(wait: outputs.config.wait)
        self.policy = WatchPolicy(waitTime: outputs.config.watch.wait, consistency: outputs.config.watch.stale ? .stale : .default)
        self.reporter = outputs.config.report.enabled ? DeliveryReporter(config: outputs.config, store: store, logger: logger, clock: clock, metrics: metrics) : nil
    }

    /// The keys watched: every bundle key, and on a canary node each one's canary key too.
    private var watchedKeys: [(key: String, bundle: String)] {
        let keys = outputs.config.bundleKeys
        let canaries = outputs.config.canary ? keys.map { (CanaryPlacement.canaryKey(ofBundleKey: $0), $0) } : []
        return keys.map { ($0, $0) } + canaries
    }

    /// Watches and renders until the task is cancelled. KV faults are reported and retried with
    /// backoff; delivered files stay as they are meanwhile.
    public func run() async {
        outputs.removeStagedLeftovers()
        startedAt = clock.now
        let stopping = stopping
        await withTaskCancellationHandler {
            await watchAndRender()
        } onCancel: {
            stopping.fire()
        }
        retryTask?.cancel()
        await reporter?.stop()
    }

    private func watchAndRender() async {
        let policy = policy
        await withTaskGroup(of: Void.self) { group in
            for (key, bundleKey) in watchedKeys {
                let watch = store.watch(key: key, policy: policy)
                let isCanary = key != bundleKey
                let reader = reader
                group.addTask {
                    await watch.run { update in
                        switch update {
                        case .unchanged:
                            await self.answered(key)
                        case .value(let read):
                            await self.answered(key)
                            let result: Result<VerifiedBundle, RenderError>
                            if isCanary {
                                var canary: Result<VerifiedBundle, RenderError>?
                                if let entry = read.value {
                                    canary = await RenderError.capture { () async throws(RenderError) in try await reader.verify(entry) }
                                }
                                await self.receivedCanary(bundleKey, canary)
                                return
                            }
                            if let entry = read.value {
                                result = await RenderError.capture { () async throws(RenderError) in try await reader.verify(entry) }
                            } else {
                                result = .failure(RenderError(.missing, "bundle \(key) does not exist in KV"))
                            }
                            await self.received(key, result)
                        case .failure(let error, let retryIn):
                            if isCanary {
                                await self.canaryWatchFailed(key, bundleKey, error)
                                return
                            }
                            await self.watchFailed(key, error, retryIn: retryIn)
                        }
                    }
                }
            }
            group.addTask { await self.renderLoop() }
            await group.waitForAll()
        }
    }

    private func answered(_ key: String) {
        lastAnswer[key] = clock.now
        metrics?.recordKVContact(at: Date().timeIntervalSince1970)
    }

    private func received(_ key: String, _ result: Result<VerifiedBundle, RenderError>) {
        if case .failure(let error) = result {
            logger.error("bundle rejected; its outputs keep their files", metadata: ["bundle": "\(key)", "error": "\(error.message)"])
            if error.kind == .bundle { metrics?.recordRejected(bundle: key) } else if error.kind == .missing { metrics?.recordMissing(bundle: key) }
        }
        // New when the content or the index differs: a store that came back empty and was
        // rewritten can hand out the same index for other content.
        if case .success(let new) = result, case .success(let old) = bundles[key],
            old.modifyIndex == new.modifyIndex, old.bundle.digest == new.bundle.digest, old.bundle.commit == new.bundle.commit
        {
            return
        }
        bundles[key] = result
        answered.insert(key)
        dirty.insert(key)
        if firstPassDone { debounce.changed(at: clock.now) }
        signal.continuation.yield()
    }

    /// A canary value arrived, changed or went away (nil: the live value applies again).
    private func receivedCanary(_ bundleKey: String, _ result: Result<VerifiedBundle, RenderError>?) {
        let canaryKey = CanaryPlacement.canaryKey(ofBundleKey: bundleKey)
        answered.insert(canaryKey)
        if case .failure(let error) = result {
            logger.error("canary value rejected; its outputs keep their files", metadata: ["key": "\(canaryKey)", "error": "\(error.message)"])
        }
        switch (canaryBundles[bundleKey], result) {
        case (nil, nil):
            signal.continuation.yield()
            return
        case (.success(let old), .success(let new)) where old.modifyIndex == new.modifyIndex && old.bundle.digest == new.bundle.digest:
            return
        default: break
        }
        canaryBundles[bundleKey] = result
        dirty.insert(bundleKey)
        if firstPassDone { debounce.changed(at: clock.now) }
        signal.continuation.yield()
    }

    /// A canary key that cannot be watched: the live value applies meanwhile.
    private func canaryWatchFailed(_ key: String, _ bundleKey: String, _ error: KVError) {
        logger.warning("cannot watch the canary key; rendering the live value", metadata: ["key": "\(key)", "error": "\(error)"])
        metrics?.recordWatchError(bundle: key)
        guard !answered.contains(key) else { return }
        answered.insert(key)
        signal.continuation.yield()
    }

    private func watchFailed(_ key: String, _ error: KVError, retryIn: Duration) {
        logger.warning("cannot watch bundle; files stay as delivered", metadata: [
            "bundle": "\(key)", "error": "\(error)", "retry_in": "\(retryIn)",
        ])
        metrics?.recordWatchError(bundle: key)
        guard !answered.contains(key) else { return }
        // Until KV answers, the first pass goes ahead without this bundle rather than wait.
        answered.insert(key)
        bundles[key] = .failure(RenderError(.kv, "bundle \(key) cannot be read: \(error)"))
        dirty.insert(key)
        signal.continuation.yield()
    }

    private func renderLoop() async {
        for await _ in signal.stream {
            guard answered.count == watchedKeys.count else { continue }
            if firstPassDone {
                while let deadline = debounce.deadline, deadline > clock.now {
                    do {
                        try await clock.sleep(until: deadline)
                    } catch {
                        return
                    }
                }
            }
            guard !dirty.isEmpty || retryOwedCommands, !Task.isCancelled else { continue }
            let changed = firstPassDone ? dirty : Set(outputs.config.bundleKeys)
            dirty = []
            retryOwedCommands = false
            debounce.reset()
            firstPassDone = true
            // A pass under way when the watcher stops finishes (files renamed, commands run, state
            // saved): it runs in a task that stopping does not cancel.
            let destinations = outputs.destinations(of: changed)
            await Task { await self.renderPass(destinations) }.value
        }
    }

    private func renderPass(_ destinations: Set<String>) async {
        var state = self.state
        let report = await outputs.pass(dryRun: false, splay: SplayWait(clock: clock, stop: stopping)).run(
            bundles: bundles.merging(canaryBundles) { _, canary in canary }, only: destinations, state: &state)
        self.state = state
        passes += 1
        lastReport = report
        metrics?.record(report, at: Date().timeIntervalSince1970)
        metrics?.recordOwedCommands(state.outputs.values.count { $0.commandPending })
        RenderLog.log(report, to: logger)
        scheduleOwedCommandRetry()
        await reporter?.passEnded(state)
    }

    /// A pass that leaves a failed command owed runs again after a backoff that grows with its
    /// failures (5 s doubling to 5 min, jittered), until the command succeeds.
    private func scheduleOwedCommandRetry() {
        retryTask?.cancel()
        retryTask = nil
        guard let failures = state.failedCommands.values.max() else { return }
        let delay = Self.commandBackoff.delay(afterFailures: failures)
        logger.warning("a command is owed; it runs again", metadata: ["retry_in": "\(delay)", "failures": "\(failures)"])
        let clock = clock
        retryTask = Task {
            do { try await clock.sleep(for: delay) } catch { return }
            self.retryOwed()
        }
    }

    private func retryOwed() {
        retryOwedCommands = true
        signal.continuation.yield()
    }
}

extension RenderWatcher {
    /// What was delivered to each output and its last error, as the state file holds it.
    public func currentState() -> RenderState { state }

    /// The modify index of the newest verified value received for `key` (for tests and status).
    /// Delivery reports written by this watcher (for tests and benchmarks).
    public func reportsWritten() async -> Int { await reporter?.writes ?? 0 }

    public func receivedIndex(of key: String) -> UInt64? {
        guard case .success(let bundle) = bundles[key] else { return nil }
        return bundle.modifyIndex
    }

    /// True while a burst of changes waits for its quiet period.
    public var isDebouncing: Bool { debounce.deadline != nil }

    /// Healthy when every bundle's query came back within its wait plus the longest backoff, no
    /// command is owed after failing, and every output's last pass succeeded.
    public func health() -> RenderHealth {
        var problems: [String] = []
        let limit = policy.waitTime + policy.backoff.maximum
        let now = clock.now
        for key in outputs.config.bundleKeys {
            guard let since = lastAnswer[key] ?? startedAt else { continue }
            if now - since > limit {
                let silent = "\(Int((now - since).components.seconds)) s"
                let what = lastAnswer[key] == nil ? "has not answered for bundle \(key) since the renderer started, \(silent) ago" : "last answered for bundle \(key) \(silent) ago"
                problems.append("KV \(what) (limit \(Int(limit.components.seconds)) s)")
            }
        }
        for (destination, output) in state.outputs.sorted(by: { $0.key < $1.key }) {
            // Owed and failed: a command waiting for its splay (or a pass under way) is not a problem yet.
            if output.commandPending, let failures = output.commandFailures {
                problems.append("\(destination): its command is owed, failed \(failures) times: \(output.commandError ?? "")")
            }
            if let error = output.lastError { problems.append("\(destination): \(error)") }
        }
        return RenderHealth(problems: problems, state: state)
    }
}

/// What `/health` answers: 200 with no problems, 503 with them.
public struct RenderHealth: Sendable, Encodable {
    public var problems: [String]
    public var state: RenderState
    public var healthy: Bool { problems.isEmpty }

    enum CodingKeys: String, CodingKey { case healthy, problems, outputs }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(healthy, forKey: .healthy)
        try container.encode(problems, forKey: .problems)
        try container.encode(state.outputs, forKey: .outputs)
    }
}
