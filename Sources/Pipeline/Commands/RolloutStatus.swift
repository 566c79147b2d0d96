public import BundleFormat
import Foundation
public import KV
import ConfigParsing

/// `git2kv status --rollout PREFIX[/BUNDLE]`: per bundle, the live commit, how many nodes
/// report it, who reports an older commit or a failure (and why), and how long delivery took.
/// Built from the state, the stage, the live bundles' headers and one recursive read of the
/// delivery reports.
public struct RolloutStatus: Sendable, Codable {
    public struct Node: Sendable, Codable, Equatable {
        public var node: String
        public var destination: String
        public var commit: String?
        public var outcome: DeliveryReport.Outcome
        public var reason: String?
        public var canary: Bool
    }

    public struct Bundle: Sendable, Codable {
        public var name: String
        /// The commit of the live value (nil when the key is missing or unreadable).
        public var liveCommit: String?
        /// The canary commit while the bundle is in a staged rollout.
        public var canaryCommit: String?
        public var nodes: Int
        /// Nodes whose every output of the bundle delivered the live (or, on canary nodes, the canary) commit.
        public var current: Int
        public var behind: [Node]
        public var failing: [Node]
        /// Seconds from the live state being written to the node's delivery, over nodes on the
        /// live commit that delivered after it (p50, p90, p99, max).
        public var latency: [String: Double]

        enum CodingKeys: String, CodingKey {
            case name, nodes, current, behind, failing, latency
            case liveCommit = "live_commit"
            case canaryCommit = "canary_commit"
        }
    }

    public var prefix: String
    public var liveCommit: String?
    public var syncedAt: Int64?
    public var stage: RolloutStage?
    public var frozen: FreezeRecord?
    public var bundles: [Bundle] = []
    /// Reports that could not be read, named with why.
    public var unreadableReports: [String] = []
    /// Nodes that reported at all, and when the newest report came.
    public var reportingNodes = 0

    enum CodingKeys: String, CodingKey {
        case prefix, stage, frozen, bundles
        case liveCommit = "live_commit"
        case syncedAt = "synced_at"
        case unreadableReports = "unreadable_reports"
        case reportingNodes = "reporting_nodes"
    }

    /// `PREFIX` or `PREFIX/BUNDLE` of a configured mapping, read as `status --rollout` and
    /// `/status?rollout=` show it.
    public static func read(config: DaemonConfig, argument: String) async throws(SyncError) -> RolloutStatus {
        let control = PrefixControl(config: config)
        let wanted = argument.hasSuffix("/") ? String(argument.dropLast()) : argument
        let target: MappingTarget
        var bundle: String?
        do {
            target = try await control.locate(wanted).target
        } catch {
            guard let slash = wanted.lastIndex(of: "/"), let parent = try? await control.locate(String(wanted[..<slash])) else { throw error }
            target = parent.target
            bundle = String(wanted[wanted.index(after: slash)...])
        }
        let kv = try KVConnection.openForSync(config.kv, token: target.mapping.token)
        return try await read(target: target, bundle: bundle, kv: kv, reportsPrefix: config.reportsPrefix)
    }

    /// Reads the rollout of `target`, for every bundle nodes report (or only `bundle`).
    public static func read(target: MappingTarget, bundle: String?, kv: any KVStore, reportsPrefix: String) async throws(SyncError) -> RolloutStatus {
        var status = RolloutStatus(prefix: target.prefix)
        let state = try await KVCall.run("read \(target.stateKey)") { () throws(KVError) in try await kv.get(target.stateKey) }
        if let entry = state.value {
            let decoded = try SyncState.decode(entry.value)
            status.liveCommit = decoded.commit.id
            status.syncedAt = decoded.syncedAt
        }
        if let entry = try await KVCall.run("read \(target.rolloutKey)", { () throws(KVError) in try await kv.get(target.rolloutKey) }).value {
            status.stage = try? RolloutStage.decode(entry.value, key: target.rolloutKey)
        }
        if let entry = try await KVCall.run("read \(target.freezeKey)", { () throws(KVError) in try await kv.get(target.freezeKey) }).value {
            status.frozen = FreezeRecord.decode(entry.value)
        }
        let (reports, unreadable, _) = try await RolloutSupervisor.readReports(kv, prefix: reportsPrefix)
        status.unreadableReports = unreadable
        var outputsByBundle: [String: [(report: DeliveryReport, output: DeliveryReport.Output)]] = [:]
        for report in reports {
            for output in report.outputs {
                guard let name = target.bundleName(ofKey: output.bundle), bundle == nil || bundle == name else { continue }
                outputsByBundle[name, default: []].append((report, output))
            }
        }
        status.reportingNodes = Set(outputsByBundle.values.flatMap { $0.map(\.report.node) }).count
        var names = Set(outputsByBundle.keys)
        if let bundle { names.insert(bundle) }
        let liveCommits = await concurrentMap(names.sorted(), width: 8) { name in await Self.commit(of: target.bundleKey(name), kv: kv) }
        for (name, liveCommit) in zip(names.sorted(), liveCommits) {
            let canaryCommit = status.stage.flatMap { $0.bundles.contains(name) ? $0.commit : nil }
            status.bundles.append(
                summarize(name, live: liveCommit, canary: canaryCommit, outputs: outputsByBundle[name] ?? [], writtenAt: status.liveWrittenAt(liveCommit)))
        }
        return status
    }

    /// When the live commit of a bundle reached KV, when known: the state's time if the
    /// bundle's commit is the state's.
    private func liveWrittenAt(_ commit: String?) -> Double? {
        guard let commit, commit == liveCommit, let syncedAt else { return nil }
        return Double(syncedAt)
    }

    private static func commit(of key: String, kv: any KVStore) async -> String? {
        guard let value = try? await kv.get(key).value?.value else { return nil }
        if value.starts(with: BundleWire.manifestMagic) { return try? ChunkManifest.decode(value).commit }
        return try? BundleDecoder.decodeHeader(value).commit.id
    }

    private static func summarize(
        _ name: String, live: String?, canary: String?, outputs: [(report: DeliveryReport, output: DeliveryReport.Output)], writtenAt: Double?
    ) -> Bundle {
        var bundle = Bundle(name: name, liveCommit: live, canaryCommit: canary, nodes: 0, current: 0, behind: [], failing: [], latency: [:])
        var latencies: [Double] = []
        for (node, entries) in Dictionary(grouping: outputs, by: { $0.report.node }).sorted(by: { $0.key < $1.key }) {
            bundle.nodes += 1
            var isCurrent = true
            for (report, output) in entries {
                let expected = report.canary && canary != nil && output.canary ? canary : live
                let row = Node(node: node, destination: output.destination, commit: output.commit, outcome: output.outcome, reason: output.reason, canary: report.canary)
                if output.outcome.isFailure {
                    bundle.failing.append(row)
                    isCurrent = false
                } else if output.commit != expected || output.outcome != .delivered {
                    bundle.behind.append(row)
                    isCurrent = false
                } else if let writtenAt, let delivered = output.deliveredAt, expected == live, delivered >= writtenAt {
                    latencies.append(delivered - writtenAt)
                }
            }
            if isCurrent { bundle.current += 1 }
        }
        bundle.latency = Percentiles.of(latencies)
        return bundle
    }

    public var text: String {
        var lines = ["rollout of \(prefix)"]
        lines.append("  live:   " + (liveCommit.map { String($0.prefix(12)) } ?? "never synced") + (syncedAt.map { " written \(MappingStatus.format($0))" } ?? ""))
        if let stage {
            lines.append("  stage:  \(stage.summary)")
            if let halt = stage.halted { lines.append("  halted: \(halt.reason)") }
        }
        if let frozen { lines.append("  \(frozen.summary)") }
        lines.append("  \(reportingNodes) node(s) report bundles of this prefix")
        for bundle in bundles {
            var head = "  bundle \(bundle.name): live \(bundle.liveCommit.map { String($0.prefix(12)) } ?? "missing")"
            if let canary = bundle.canaryCommit { head += ", canary \(canary.prefix(12))" }
            lines.append(head)
            lines.append("    \(bundle.current)/\(bundle.nodes) node(s) current")
            for node in bundle.failing {
                lines.append("    failing: \(node.node)\(node.canary ? " (canary)" : "") \(node.destination): \(node.outcome.rawValue): \(node.reason ?? "")")
            }
            for node in bundle.behind {
                lines.append("    behind:  \(node.node)\(node.canary ? " (canary)" : "") \(node.destination) at \(node.commit.map { String($0.prefix(12)) } ?? "nothing") (\(node.outcome.rawValue))")
            }
            if let p50 = bundle.latency["p50"], let p90 = bundle.latency["p90"], let p99 = bundle.latency["p99"], let max = bundle.latency["max"] {
                lines.append(String(format: "    delivery after the live write: p50 %.1f s, p90 %.1f s, p99 %.1f s, max %.1f s", p50, p90, p99, max))
            }
        }
        for problem in unreadableReports.prefix(10) { lines.append("  unreadable report: \(problem)") }
        return lines.joined(separator: "\n")
    }
}

/// Nearest-rank percentiles of a sample (empty when there is none).
enum Percentiles {
    static func of(_ values: [Double]) -> [String: Double] {
        guard !values.isEmpty else { return [:] }
        let sorted = values.sorted()
        func rank(_ p: Double) -> Double { sorted[min(sorted.count - 1, max(0, Int((p * Double(sorted.count)).rounded(.up)) - 1))] }
        return ["p50": rank(0.5), "p90": rank(0.9), "p99": rank(0.99), "max": sorted[sorted.count - 1]]
    }
}
