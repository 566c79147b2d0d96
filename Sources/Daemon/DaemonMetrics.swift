public import Prometheus
import Pipeline

/// The daemon's Prometheus metrics (served at /metrics). Every name starts with `git2kv_`.
public final class DaemonMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry

    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
    }

    private func name(_ metric: String, _ unit: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "git2kv", metricName: metric, unitName: unit, helpText: help)
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
        registry.makeDurationHistogram(
            descriptor: name("sync_duration", "seconds", "Time to plan and write one mapping."), labels: labels, buckets: Self.syncBuckets
        ).record(duration)
        registry.makeCounter(
            descriptor: name("syncs", "total", "Syncs of a mapping by outcome."), labels: labels + [("outcome", succeeded ? "success" : "failure")]
        ).increment()
        if succeeded {
            registry.makeGauge(descriptor: name("last_success", "timestamp_seconds", "When a mapping last synced successfully."), labels: labels)
                .set(to: now)
        }
    }

    func recordWritten(_ target: MappingTarget, bundles: Int, deletes: Int, bytes: Int) {
        let labels = [("repo", target.repo), ("prefix", target.prefix)]
        registry.makeCounter(descriptor: name("bundles_written", "total", "Bundles (or files-layout keys) written to KV."), labels: labels)
            .increment(by: Int64(bundles))
        registry.makeCounter(descriptor: name("keys_deleted", "total", "Keys deleted from KV by syncs."), labels: labels)
            .increment(by: Int64(deletes))
        registry.makeCounter(descriptor: name("bytes_written", "total", "Value bytes written to KV."), labels: labels)
            .increment(by: Int64(bytes))
    }

    func setCommitsBehind(_ target: MappingTarget, _ behind: Int) {
        registry.makeGauge(
            descriptor: name("commits_behind", "count", "Commits between the live state in KV and the branch head."), labels: Self.labels(target)
        ).set(to: Double(behind))
    }

    func recordWebhook(provider: String, outcome: String) {
        registry.makeCounter(
            descriptor: name("webhooks", "total", "Webhook requests by provider and outcome."),
            labels: [("provider", provider), ("outcome", outcome)]
        ).increment()
    }

    func recordForwardedWebhook(repo: String) {
        registry.makeCounter(
            descriptor: name("webhooks_forwarded", "total", "Verified webhooks a follower passed to the leader through the sync-request key."),
            labels: [("repo", repo)]
        ).increment()
    }

    func setRepoProblems(repo: String, _ count: Int) {
        registry.makeGauge(
            descriptor: name("repo_problems", "", "Repo-wide failures now (fetch, mirror, unresolvable branch); see /status."), labels: [("repo", repo)]
        ).set(to: Double(count))
    }

    func recordDriftRepairs(_ target: MappingTarget, _ count: Int) {
        registry.makeCounter(
            descriptor: name("drift_repairs", "total", "Keys found edited, missing or stray in KV and put back to what git says."),
            labels: [("repo", target.repo), ("prefix", target.prefix)]
        ).increment(by: Int64(count))
    }

    func recordKVError(kind: String) {
        registry.makeCounter(descriptor: name("kv_errors", "total", "Failed KV requests by kind."), labels: [("kind", kind)]).increment()
    }

    func recordGitError(repo: String) {
        registry.makeCounter(descriptor: name("git_errors", "total", "Failed fetches by repo."), labels: [("repo", repo)]).increment()
    }

    func setLeader(repo: String, _ isLeader: Bool) {
        registry.makeGauge(descriptor: name("leader", "", "1 while this replica leads the repo, else 0."), labels: [("repo", repo)])
            .set(to: isLeader ? 1 : 0)
    }

    func setFrozen(_ target: MappingTarget, _ frozen: Bool) {
        registry.makeGauge(descriptor: name("frozen", "", "1 while the mapping prefix is frozen."), labels: Self.labels(target))
            .set(to: frozen ? 1 : 0)
    }

    func setSecondsSincePoll(repo: String, reference: String, _ seconds: Double) {
        registry.makeGauge(
            descriptor: name("seconds_since_last_poll", "", "Seconds since the last successful poll (fetch) of a branch."),
            labels: [("repo", repo), ("reference", reference)]
        ).set(to: seconds)
    }

    func setUp(_ up: Bool) {
        registry.makeGauge(descriptor: name("ready", "", "1 while the daemon is ready (KV reachable, pollers current)."))
            .set(to: up ? 1 : 0)
    }

    public func exposition() -> String { registry.emitToString() }
}
