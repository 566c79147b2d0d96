import BundleFormat
import Foundation
import KV
import Logging

/// Writes this node's delivery report (`<report.prefix>/<node>`) after a render pass whose
/// outcome differs from what the key already says: at most one write per delivered change,
/// never one per poll. The first pass compares with the value already in KV, so a restart
/// writes nothing. A write that fails is retried with backoff; a newer pass supersedes it.
actor DeliveryReporter {
    let key: String
    private let node: String
    private let canary: Bool
    private let outputs: [OutputConfig]
    private let store: any KVStore
    private let logger: Logger
    private let clock: ServiceClock
    private let metrics: RendererMetrics?
    private var written: DeliveryReport?
    private var readExisting = false
    private var pending: DeliveryReport?
    private var failures = 0
    private var retryTask: Task<Void, Never>?
    private var writer: Task<Void, Never>?
    static let backoff = Backoff(initial: .seconds(2), maximum: .seconds(120))
    /// Reports written, for tests and the benchmark.
    private(set) var writes = 0

    init(config: RendererConfig, store: any KVStore, logger: Logger, clock: ServiceClock, metrics: RendererMetrics? = nil) {
        node = config.report.node ?? NodeFacts.current(allowlist: []).hostname
        key = DeliveryReport.key(prefix: config.report.prefix, node: node)
        canary = config.canary
        outputs = config.outputs
        self.store = store
        self.logger = logger
        self.clock = clock
        self.metrics = metrics
    }

    /// The report `state` makes: one entry per output that has been rendered at least once from
    /// a git commit. Outputs of hosts data and published files are left out: they change with the
    /// catalog, not with commits, and reporting them would write once per node per health change.
    func report(of state: RenderState, at now: Double) -> DeliveryReport {
        var entries: [DeliveryReport.Output] = []
        for output in outputs {
            guard let record = state.outputs[output.destination] else { continue }
            if let commit = record.commit ?? record.failedCommit, !Self.isGitCommit(commit) { continue }
            entries.append(Self.entry(output, record))
        }
        return DeliveryReport(node: node, canary: canary, reportedAt: now, outputs: entries)
    }

    static func isGitCommit(_ id: String) -> Bool {
        (id.utf8.count == 40 || id.utf8.count == 64) && id.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) }
    }

    static func entry(_ output: OutputConfig, _ record: RenderState.Output) -> DeliveryReport.Output {
        var entry = DeliveryReport.Output(
            destination: output.destination, bundle: output.bundle, commit: record.commit, digest: record.digest, outcome: .delivered,
            deliveredAt: record.deliveredAt, canary: record.canary ?? false)
        if let error = record.lastError {
            entry.outcome = record.lastErrorKind == RenderError.Kind.check.rawValue ? .checkFailed : .failed
            entry.reason = Self.bounded(error)
            entry.failedCommit = record.failedCommit
        } else if record.commandPending, record.commandFailures != nil {
            entry.outcome = .commandFailed
            entry.reason = record.commandError.map(Self.bounded)
            entry.failedCommit = record.commit
        } else if record.commandPending {
            entry.outcome = .owed
        }
        return entry
    }

    /// A reason as reported: its first 500 characters (a check's output can be long, and a node
    /// with many outputs must stay far below the size readers accept).
    static func bounded(_ reason: String) -> String {
        reason.count <= 500 ? reason : String(reason.prefix(500)) + "…"
    }

    /// After a pass: the report is written when it says something new, by a task of its own,
    /// so a slow or stuck store never holds up rendering. A write under way picks up the newest
    /// report when it ends; reports in between are never written.
    func passEnded(_ state: RenderState) {
        pending = report(of: state, at: Date().timeIntervalSince1970)
        guard writer == nil else { return }
        retryTask?.cancel()
        retryTask = nil
        writer = Task { await self.drain() }
    }

    /// Waits for a write under way (bounded by the store client's request timeout).
    func flush() async {
        await writer?.value
    }

    /// Stops retrying; a write under way finishes.
    func stop() async {
        retryTask?.cancel()
        retryTask = nil
        await flush()
    }

    private func drain() async {
        while let report = pending {
            guard await write(report) else { break }
            if pending == report { pending = nil }
        }
        writer = nil
    }

    /// False when the store could not be read or written (a retry is scheduled).
    private func write(_ report: DeliveryReport) async -> Bool {
        if !readExisting {
            do {
                if let entry = try await store.get(key).value {
                    written = try? DeliveryReport.decode(entry.value, key: key)
                }
                readExisting = true
            } catch {
                failed(error)
                return false
            }
        }
        if let written, written.saysTheSame(as: report) { return true }
        do {
            _ = try await store.put(key, value: report.encoded())
            written = report
            writes += 1
            metrics?.recordReport(written: true)
            if failures > 0 { logger.info("delivery report written again", metadata: ["key": "\(key)"]) }
            failures = 0
            return true
        } catch {
            failed(error)
            return false
        }
    }

    private func failed(_ error: KVError) {
        failures += 1
        metrics?.recordReport(written: false)
        let delay = Self.backoff.delay(afterFailures: failures)
        // Logged once per run of failures: a read-only token would otherwise log every pass.
        if failures == 1 {
            let hint = error.kind == .permissionDenied ? " (the renderer's token needs write on this one key; see `git2kv policy`)" : ""
            logger.warning("cannot write the delivery report\(hint)", metadata: ["key": "\(key)", "error": "\(error)", "retry_in": "\(delay)"])
        }
        let clock = clock
        retryTask = Task {
            do { try await clock.sleep(for: delay) } catch { return }
            self.retry()
        }
    }

    private func retry() {
        retryTask = nil
        guard writer == nil, pending != nil else { return }
        writer = Task { await self.drain() }
    }
}
