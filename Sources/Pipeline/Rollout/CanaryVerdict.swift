public import BundleFormat

/// What the canary nodes' reports say about a stage, and what the daemon does next. Pure: the
/// reports, the stage, the freeze and the time in; a decision out (tested without KV or clocks).
public struct CanaryVerdict: Sendable, Equatable {
    public enum Decision: Sendable, Equatable {
        /// Not enough canary nodes have delivered the commit yet (or the bake is not over).
        case wait
        /// Enough canary nodes delivered it: the bake starts now.
        case startBake
        /// Fewer canary nodes than needed are on the commit again: the bake starts over later.
        case resetBake
        /// Healthy for the whole bake (or unfrozen by an operator after a halt): to the fleet.
        case promote
        /// A canary node failed the commit: freeze the prefix with this reason.
        case halt(String)
        /// Halted and still frozen: nothing until an unfreeze or a new commit.
        case halted
    }

    /// Canary nodes that delivered the commit with checks and commands passing.
    public var healthy: [String] = []
    /// Canary nodes that failed it, with what failed.
    public var failing: [String: String] = [:]
    /// Canary nodes still on another commit (or owing a command).
    public var pending: [String] = []
    public var decision = Decision.wait

    /// `bundleKeys`: the stage's bundles as live keys (`P/<bundle>`), which outputs name.
    public static func judge(
        stage: RolloutStage, bundleKeys: Set<String>, rollout: RolloutConfig, reports: [DeliveryReport], frozen: Bool, now: Int64
    ) -> CanaryVerdict {
        var verdict = CanaryVerdict()
        for report in reports where report.canary && rollout.isCanary(report.node) {
            let outputs = report.outputs.filter { bundleKeys.contains($0.bundle) }
            guard !outputs.isEmpty else { continue }
            if let failed = outputs.first(where: { $0.outcome.isFailure && $0.failedCommit == stage.commit }) {
                verdict.failing[report.node] = "\(failed.destination): \(failed.outcome.rawValue): \(failed.reason ?? "no reason given")"
            } else if outputs.allSatisfy({ $0.outcome == .delivered && $0.commit == stage.commit }) {
                verdict.healthy.append(report.node)
            } else {
                verdict.pending.append(report.node)
            }
        }
        verdict.healthy.sort()
        verdict.pending.sort()
        verdict.decision = decide(verdict, stage: stage, rollout: rollout, frozen: frozen, now: now)
        return verdict
    }

    private static func decide(_ verdict: CanaryVerdict, stage: RolloutStage, rollout: RolloutConfig, frozen: Bool, now: Int64) -> Decision {
        if stage.halted != nil { return frozen ? .halted : .promote }
        if let (node, what) = verdict.failing.min(by: { $0.key < $1.key }) {
            let others = verdict.failing.count > 1 ? " and \(verdict.failing.count - 1) more canary node(s)" : ""
            return .halt("canary node \(node) failed commit \(stage.commit.prefix(12)): \(what)\(others)")
        }
        guard verdict.healthy.count >= rollout.minNodes else { return stage.bakingSince == nil ? .wait : .resetBake }
        guard let since = stage.bakingSince else { return rollout.bake == .zero ? .promote : .startBake }
        return now - since >= rollout.bake.components.seconds ? .promote : .wait
    }
}
