public import KV
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
    private var answered: Set<String> = []
    private var dirty: Set<String> = []
    private var debounce: Debounce
    private let clock: ServiceClock
    private var firstPassDone = false
    private let signal = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    /// Render passes finished, for tests and status.
    public private(set) var passes = 0
    public private(set) var lastReport: RenderReport?

    public init(
        outputs: OutputSet, store: any KVStore, state: RenderState, logger: Logger, metrics: RendererMetrics? = nil, clock: ServiceClock = .continuous
    ) {
        self.clock = clock
        self.outputs = outputs
        self.store = store
        self.reader = BundleReader(store: store, consistency: outputs.config.watch.stale ? .stale : .default)
        self.logger = logger
        self.metrics = metrics
        self.state = state
        self.debounce = Debounce(wait: outputs.config.wait)
    }

    /// Watches and renders until the task is cancelled. KV faults are reported and retried with
    /// backoff; delivered files stay as they are meanwhile.
    public func run() async {
        outputs.removeStagedLeftovers()
        let policy = WatchPolicy(
            waitTime: outputs.config.watch.wait, consistency: outputs.config.watch.stale ? .stale : .default)
        await withTaskGroup(of: Void.self) { group in
            for key in outputs.config.bundleKeys {
                let watch = store.watch(key: key, policy: policy)
                let reader = reader
                group.addTask {
                    await watch.run { update in
                        switch update {
                        case .value(let read):
                            let result: Result<VerifiedBundle, RenderError>
                            if let entry = read.value {
                                result = await RenderError.capture { () async throws(RenderError) in try await reader.verify(entry) }
                            } else {
                                result = .failure(RenderError(.bundle, "bundle \(key) does not exist in KV"))
                            }
                            await self.received(key, result)
                        case .failure(let error, let retryIn):
                            await self.watchFailed(key, error, retryIn: retryIn)
                        }
                    }
                }
            }
            group.addTask { await self.renderLoop() }
            await group.waitForAll()
        }
    }

    private func received(_ key: String, _ result: Result<VerifiedBundle, RenderError>) {
        if case .failure(let error) = result {
            logger.error("bundle rejected; its outputs keep their files", metadata: ["bundle": "\(key)", "error": "\(error.message)"])
            if error.kind == .bundle { metrics?.recordRejected(bundle: key) }
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
            guard answered.count == outputs.config.bundleKeys.count else { continue }
            if firstPassDone {
                while let deadline = debounce.deadline, deadline > clock.now {
                    do {
                        try await clock.sleep(until: deadline)
                    } catch {
                        return
                    }
                }
            }
            guard !dirty.isEmpty, !Task.isCancelled else { continue }
            let changed = firstPassDone ? dirty : Set(outputs.config.bundleKeys)
            dirty = []
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
        let report = await outputs.pass(dryRun: false).run(bundles: bundles, only: destinations, state: &state)
        self.state = state
        passes += 1
        lastReport = report
        metrics?.record(report, at: Date().timeIntervalSince1970)
        RenderLog.log(report, to: logger)
    }
}

extension RenderWatcher {
    /// What was delivered to each output and its last error, as the state file holds it.
    public func currentState() -> RenderState { state }

    /// The modify index of the newest verified value received for `key` (for tests and status).
    public func receivedIndex(of key: String) -> UInt64? {
        guard case .success(let bundle) = bundles[key] else { return nil }
        return bundle.modifyIndex
    }

    /// True while a burst of changes waits for its quiet period.
    public var isDebouncing: Bool { debounce.deadline != nil }
}
