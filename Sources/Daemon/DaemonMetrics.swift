public import ConfigParsing
public import MetricsExport
import Pipeline

/// The daemon's metrics: Prometheus at /metrics, DogStatsD when configured. Every name starts with `git2kv_`.
public final class DaemonMetrics: Sendable {
    /// Prometheus at /metrics, and DogStatsD when configured.
    public let exported: ExportedMetrics

    public init(exported: ExportedMetrics = ExportedMetrics(namespace: "git2kv")) {
        self.exported = exported
    }

    /// From the daemon's `metrics:` setting; fails when the DogStatsD agent's name cannot be resolved.
    public convenience init(config: MetricsConfig) throws(DogStatsDError) {
        self.init(exported: try ExportedMetrics(namespace: "git2kv", config: config))
    }

    private static func labels(_ target: MappingTarget) -> [(String, String)] {
        [("repo", target.repo), ("reference", target.reference), ("prefix", target.prefix)]
    }

    static let syncBuckets: [Duration] = [
        .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500),
        .seconds(1), .seconds(2.5), .seconds(5), .seconds(10), .seconds(30), .seconds(60),
    ]

    func recordSync(_ target: MappingTarget, duration: Duration, succeeded: Bool, at now: Double) {
        let labels = Self.labels(target)
        exported.record(MetricName("sync_duration", "seconds", "Time to plan and write one mapping."), labels: labels, buckets: Self.syncBuckets, duration)
        exported.increment(MetricName("syncs", "total", "Syncs of a mapping by outcome."), labels: labels + [("outcome", succeeded ? "success" : "failure")])
        if succeeded {
            exported.set(MetricName("last_success", "timestamp_seconds", "When a mapping last synced successfully."), labels: labels, to: now)
        }
    }

    func recordWritten(_ target: MappingTarget, bundles: Int, deletes: Int, bytes: Int) {
        let labels = [("repo", target.repo), ("prefix", target.prefix)]
        exported.increment(MetricName("bundles_written", "total", "Bundles (or files-layout keys) written to KV."), labels: labels, by: Int64(bundles))
        exported.increment(MetricName("keys_deleted", "total", "Keys deleted from KV by syncs."), labels: labels, by: Int64(deletes))
        exported.increment(MetricName("bytes_written", "total", "Value bytes written to KV."), labels: labels, by: Int64(bytes))
    }

    func setCommitsBehind(_ target: MappingTarget, _ behind: Int) {
        exported.set(MetricName("commits_behind", "count", "Commits between the live state in KV and the branch head."), labels: Self.labels(target), to: Double(behind))
    }

    func recordWebhook(provider: String, outcome: String) {
        exported.increment(MetricName("webhooks", "total", "Webhook requests by provider and outcome."), labels: [("provider", provider), ("outcome", outcome)])
    }

    func recordForwardedWebhook(repo: String) {
        exported.increment(MetricName("webhooks_forwarded", "total", "Verified webhooks a follower passed to the leader through the sync-request key."), labels: [("repo", repo)])
    }

    func setRepoProblems(repo: String, _ count: Int) {
        exported.set(MetricName("repo_problems", "", "Repo-wide failures now (fetch, mirror, unresolvable branch); see /status."), labels: [("repo", repo)], to: Double(count))
    }

    func recordDriftRepairs(_ target: MappingTarget, _ count: Int) {
        exported.increment(MetricName("drift_repairs", "total", "Keys found edited, missing or stray in KV and put back to what git says."), labels: [("repo", target.repo), ("prefix", target.prefix)], by: Int64(count))
    }

    func recordKVError(kind: String) {
        exported.increment(MetricName("kv_errors", "total", "Failed KV requests by kind."), labels: [("kind", kind)])
    }

    func recordGitError(repo: String) {
        exported.increment(MetricName("git_errors", "total", "Failed fetches by repo."), labels: [("repo", repo)])
    }

    func setLeader(repo: String, _ isLeader: Bool) {
        exported.set(MetricName("leader", "", "1 while this replica leads the repo, else 0."), labels: [("repo", repo)], to: isLeader ? 1 : 0)
    }

    func setFrozen(_ target: MappingTarget, _ frozen: Bool) {
        exported.set(MetricName("frozen", "", "1 while the mapping prefix is frozen."), labels: Self.labels(target), to: frozen ? 1 : 0)
    }

    func setSecondsSincePoll(repo: String, reference: String, _ seconds: Double) {
        exported.set(MetricName("seconds_since_last_poll", "", "Seconds since the last successful poll (fetch) of a branch."), labels: [("repo", repo), ("reference", reference)], to: seconds)
    }

    func setUp(_ up: Bool) {
        exported.set(MetricName("ready", "", "1 while the daemon is ready (KV reachable, pollers current)."), to: up ? 1 : 0)
    }

    /// The stage of a staged rollout: 0 none, 1 canary, 2 baking, 3 halted; and its healthy canary nodes.
    func setRolloutStage(_ target: MappingTarget, phase: String?, healthyCanaries: Int) {
        let value: Double = switch phase {
        case "canary": 1
        case "baking": 2
        case "halted": 3
        default: 0
        }
        exported.set(MetricName("rollout_stage", "", "Staged rollout: 0 none, 1 canary, 2 baking, 3 halted (canary failed, prefix frozen)."), labels: Self.labels(target), to: value)
        exported.set(MetricName("rollout_canary_healthy", "nodes", "Canary nodes that delivered the staged commit with checks and commands passing."), labels: Self.labels(target), to: Double(healthyCanaries))
    }

    func recordRollout(_ target: MappingTarget, event: String) {
        exported.increment(MetricName("rollout_events", "total", "Staged rollout events: staged, baking, promoted, halted."), labels: Self.labels(target) + [("event", event)])
    }

    public func exposition() -> String { exported.exposition() }
}
