import BundleFormat
import Foundation
import KV
import Pipeline

/// The staged-rollout leg of the rolling restarts: a second mapping of the repo with
/// `rollout:`, one canary node played from here (it reports every staged commit delivered), and
/// the fleet's state followed. Whatever replica leads, a commit may reach the fleet's state only
/// after a stage held it; and the last commit must be promoted once the commits stop.
final class CanaryStageWatcher: @unchecked Sendable {
    static let prefix = "config/canaried"
    static let mapping = "{ source: apps, prefix: \(prefix), rollout: { canary: { nodes: [canary-1], min_nodes: 1, bake: 1s } } }"

    private let kv: ConsulClient
    private let findings: Findings
    private let lock = NSLock()
    private var staged: Set<String> = []
    private var live: String?

    init(kv: ConsulClient, findings: Findings) {
        self.kv = kv
        self.findings = findings
    }

    var liveCommit: String? { lock.withLock { live } }

    /// Plays the canary node: each new stage's commit is reported delivered.
    func playCanary() async {
        var index: UInt64?
        var reported: String?
        while !Task.isCancelled {
            guard let read = try? await kv.get(Self.prefix + "/.git2kv/rollout", options: KVReadOptions(waitIndex: index, waitTime: .seconds(5))) else {
                try? await Task.sleep(for: .milliseconds(100))
                continue
            }
            index = read.index
            guard let entry = read.value, let stage = try? RolloutStage.decode(entry.value, key: "stage"), stage.commit != reported else { continue }
            lock.withLock { _ = staged.insert(stage.commit) }
            findings.count("canary stages")
            let output = DeliveryReport.Output(
                destination: "/etc/canaried/web", bundle: Self.prefix + "/web", commit: stage.commit, digest: "d", outcome: .delivered,
                deliveredAt: Date().timeIntervalSince1970, canary: true)
            let report = DeliveryReport(node: "canary-1", canary: true, reportedAt: Date().timeIntervalSince1970, outputs: [output])
            if (try? await kv.put(DeliveryReport.key(prefix: DeliveryReport.defaultPrefix, node: "canary-1"), value: report.encoded())) != nil {
                reported = stage.commit
            }
        }
    }

    /// Follows the fleet's state: after the first sync, every commit in it was staged first.
    func followFleet(initial: String) async {
        var index: UInt64?
        var lastModify: UInt64 = 0
        while !Task.isCancelled {
            guard let read = try? await kv.get(Self.prefix + "/.git2kv/state", options: KVReadOptions(waitIndex: index, waitTime: .seconds(5))) else {
                try? await Task.sleep(for: .milliseconds(100))
                continue
            }
            index = read.index
            guard let entry = read.value, entry.modifyIndex > lastModify, let state = try? SyncState.decode(entry.value) else { continue }
            lastModify = entry.modifyIndex
            let commit = state.commit.id
            let wasStaged = lock.withLock {
                live = commit
                return staged.contains(commit)
            }
            guard commit != initial else { continue }
            findings.count("promotions")
            if !wasStaged { findings.violation("\(Self.prefix) went live at \(commit.prefix(12)) without a canary stage holding it first") }
        }
    }
}
