import Foundation
import KV
import Pipeline
import TestFixtures

/// HA as deployed: three `serve` replicas on one kv-server, webhooks through a round-robin
/// proxy, a commit every 200 ms, and the replicas restarted with SIGTERM one after another.
/// Polls are slow (60 s), so every commit reaches KV through a webhook, a forwarded webhook,
/// or a new leader's first sync. It reports the longest gap between a commit and the first KV
/// state naming it (or a later commit), and any state written twice or out of order.
struct RollingRestartRun {
    static let secret = "rolling-restart-webhook-secret"
    static let goal = Duration.seconds(2)

    let restarts: Int
    let root: String

    func run() async throws -> ScenarioReport {
        try FileManager.default.createDirectory(atPath: root + "/logs", withIntermediateDirectories: true)
        let ports = ClosedPort.find(count: 4)
        let kvAddress = "http://127.0.0.1:\(ports[0])"
        let repository = try FixtureRepository(at: root + "/origin.git")
        try repository.commit("initial", changes: [.text("apps/web/sequence", "0")])
        let binary = Git2KVBinary.path
        let kvServer = SupervisedProcess(
            name: "kv-server", executable: binary, arguments: ["kv-server", "--listen", "127.0.0.1:\(ports[0])"],
            logPath: root + "/logs/kv-server.log", healthURL: kvAddress + "/v1/status/leader")
        var replicas: [SupervisedProcess] = []
        for (number, port) in ports.dropFirst().enumerated() {
            let config = root + "/replica-\(number + 1).yaml"
            try """
                kv: { address: "\(kvAddress)", timeout: 5s }
                state_dir: \(root)/replica-\(number + 1)-state
                http: { listen: "127.0.0.1:\(port)" }
                ha: { session_ttl: 15s, lock_delay: 1s }
                repos:
                  - name: config
                    url: "file://\(root)/origin.git"
                    branches: [main]
                    poll_interval: 60s
                    webhook: { provider: generic, secret_env: ROLLING_WEBHOOK_SECRET }
                    mappings:
                      - { source: apps, prefix: config/apps }
                      - \(CanaryStageWatcher.mapping)

                """.write(toFile: config, atomically: true, encoding: .utf8)
            replicas.append(
                SupervisedProcess(
                    name: "replica-\(number + 1)", executable: binary, arguments: ["serve", "--config", config, "--log-level", "info"],
                    environment: ["ROLLING_WEBHOOK_SECRET": Self.secret], logPath: root + "/logs/replica-\(number + 1).log",
                    healthURL: "http://127.0.0.1:\(port)/health/ready"))
        }
        let everything = [kvServer] + replicas
        defer { everything.forEach { $0.kill9() } }
        for process in everything {
            try process.start()
            guard await HTTPProbe.waitUntilHealthy(process.healthURL, timeout: .seconds(60)) else {
                throw ReliabilityFailure("\(process.name) did not become ready at start (see \(root)/logs)")
            }
        }

        let findings = Findings()
        let kv = ConsulClient(.init(address: kvAddress, requestTimeout: .seconds(5)))
        let timeline = CommitTimeline()
        timeline.made(try repository.head())
        let watcher = Task { await StateWatcher(kv: kv, key: "config/apps/.git2kv/state", timeline: timeline, findings: findings).run() }
        let leaderWatcher = Task { await Self.countLeaderChanges(kv: kv, key: "config/apps/.git2kv/leader", findings: findings) }
        let canary = CanaryStageWatcher(kv: kv, findings: findings)
        let initial = try repository.head()
        let canaryPlayer = Task { await canary.playCanary() }
        let fleetFollower = Task { await canary.followFleet(initial: initial) }
        let proxy = WebhookProxy(addresses: ports.dropFirst().map { "http://127.0.0.1:\($0)" }, secret: Self.secret, findings: findings)

        let committing = Task {
            var sequence = 0
            while !Task.isCancelled {
                sequence += 1
                guard let head = try? repository.commit("sequence \(sequence)", changes: [.text("apps/web/sequence", "\(sequence)")]) else {
                    findings.violation("the fixture could not commit")
                    break
                }
                timeline.made(head)
                Task { await proxy.post(head: head) }
                try? await Task.sleep(for: .milliseconds(200))
            }
        }

        var slowestStop = Duration.zero
        var slowestReady = Duration.zero
        var cleanStops = 0
        for restart in 0..<restarts {
            let replica = replicas[restart % replicas.count]
            let stopping = ContinuousClock.now
            if replica.terminate(grace: 10) { cleanStops += 1 } else { findings.violation("\(replica.name) did not exit within 10 s of SIGTERM") }
            slowestStop = max(slowestStop, stopping.duration(to: .now))
            try replica.start()
            let starting = ContinuousClock.now
            if await HTTPProbe.waitUntilHealthy(replica.healthURL, timeout: .seconds(60)) {
                slowestReady = max(slowestReady, starting.duration(to: .now))
            } else {
                findings.violation("\(replica.name) was not ready within 60 s of its restart \(restart + 1)")
            }
            // Let commits flow with this set of replicas before the next restart.
            try await Task.sleep(for: .seconds(1))
        }
        committing.cancel()
        await committing.value
        let last = try repository.commit("final", changes: [.text("apps/web/sequence", "final")])
        timeline.made(last)
        await proxy.post(head: last)
        let deadline = ContinuousClock.now + .seconds(30)
        while timeline.writtenAt(last) == nil, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
        if timeline.writtenAt(last) == nil { findings.violation("the last commit was not in KV within 30 s") }
        let promotionDeadline = ContinuousClock.now + .seconds(30)
        while canary.liveCommit != last, ContinuousClock.now < promotionDeadline { try await Task.sleep(for: .milliseconds(50)) }
        if canary.liveCommit != last { findings.violation("the last commit was not promoted to the fleet of \(CanaryStageWatcher.prefix) within 30 s of the end") }
        canaryPlayer.cancel()
        fleetFollower.cancel()
        await canaryPlayer.value
        await fleetFollower.value
        watcher.cancel()
        leaderWatcher.cancel()
        await watcher.value
        await leaderWatcher.value
        for replica in replicas where !replica.terminate(grace: 10) { findings.violation("\(replica.name) did not stop cleanly at the end") }

        let gaps = timeline.gaps()
        let longest = gaps.max() ?? .zero
        let median = gaps.sorted()[gaps.count / 2]
        if longest >= Self.goal { findings.violation("a commit took \(Self.format(longest)) to reach KV (goal: under \(Self.format(Self.goal)))") }
        let lines = [
            "rolling restarts: \(cleanStops) of \(restarts) SIGTERM restarts of 3 serve replicas exited cleanly (slowest stop \(Self.format(slowestStop)), slowest back to ready \(Self.format(slowestReady)))",
            "commits: \(gaps.count) made every 200 ms; commit → KV: median \(Self.format(median)), longest \(Self.format(longest)) (goal under \(Self.format(Self.goal)))",
            "webhooks: \(findings["webhooks answered by their replica"]) answered by the replica the proxy chose, \(findings["webhooks passed to the next replica (one was down)"]) passed on while one was down, \(findings["webhooks no replica answered"]) unanswered",
            "leadership: moved \(findings["leader changes"]) times; \(findings["moments without a leader"]) moments without one",
            "states: \(findings["state values"]) written, \(findings["state written twice"]) written twice, \(findings["state out of order"]) out of order",
            "staged rollout (\(CanaryStageWatcher.prefix), bake 1 s): \(findings["canary stages"]) canary stages, \(findings["promotions"]) promotion(s), each after a stage held its commit; the last commit promoted after the commits stopped",
        ] + findings.violations.prefix(20).map { "violation: \($0)" }
        return ScenarioReport(lines: lines, passed: findings.violations.isEmpty)
    }

    /// Follows the leader lock: every new holder is a leadership change.
    static func countLeaderChanges(kv: ConsulClient, key: String, findings: Findings) async {
        var index: UInt64?
        var holder: String?
        while !Task.isCancelled {
            guard let read = try? await kv.get(key, options: KVReadOptions(waitIndex: index, waitTime: .seconds(5))) else {
                try? await Task.sleep(for: .milliseconds(100))
                continue
            }
            index = read.index
            let session = read.value?.session
            if session == nil, holder != nil { findings.count("moments without a leader") }
            if let session, let previous = holder, session != previous { findings.count("leader changes") }
            holder = session ?? holder
        }
    }

    static func format(_ duration: Duration) -> String {
        String(format: "%.2f s", duration.inSeconds)
    }
}

/// When each commit was made, and when KV first named it or a later one.
final class CommitTimeline: @unchecked Sendable {
    private let lock = NSLock()
    private var order: [String] = []
    private var madeAt: [String: ContinuousClock.Instant] = [:]
    private var written: [String: ContinuousClock.Instant] = [:]

    func made(_ commit: String) {
        lock.withLock {
            order.append(commit)
            madeAt[commit] = .now
        }
    }

    func position(of commit: String) -> Int? { lock.withLock { order.firstIndex(of: commit) } }

    /// KV named `commit`: it and every earlier commit are written now (if not already).
    func wrote(_ commit: String) {
        lock.withLock {
            guard let position = order.firstIndex(of: commit) else { return }
            let now = ContinuousClock.now
            for earlier in order[...position] where written[earlier] == nil { written[earlier] = now }
        }
    }

    func writtenAt(_ commit: String) -> ContinuousClock.Instant? { lock.withLock { written[commit] } }

    /// For every commit KV caught up with: the time from its commit to the write.
    func gaps() -> [Duration] {
        lock.withLock { order.compactMap { commit in written[commit].map { madeAt[commit]!.duration(to: $0) } } }
    }
}

/// Follows the state key with blocking queries and checks each new value: a commit of the run,
/// never one written before, never an older one.
struct StateWatcher {
    let kv: ConsulClient
    let key: String
    let timeline: CommitTimeline
    let findings: Findings

    func run() async {
        var index: UInt64?
        var lastPosition = -1
        var lastModify: UInt64 = 0
        var seen: Set<String> = []
        while !Task.isCancelled {
            guard let read = try? await kv.get(key, options: KVReadOptions(waitIndex: index, waitTime: .seconds(5))) else {
                try? await Task.sleep(for: .milliseconds(100))
                continue
            }
            index = read.index
            guard let entry = read.value, entry.modifyIndex > lastModify, let state = try? SyncState.decode(entry.value) else { continue }
            lastModify = entry.modifyIndex
            findings.count("state values")
            let commit = state.commit.id
            guard let position = timeline.position(of: commit) else {
                findings.violation("the state names \(commit.prefix(12)), which the run did not commit")
                continue
            }
            if seen.contains(commit) {
                findings.count("state written twice")
                findings.violation("commit \(commit.prefix(12)) was written twice")
            } else if position < lastPosition {
                findings.count("state out of order")
                findings.violation("commit \(commit.prefix(12)) was written after a later one")
            }
            seen.insert(commit)
            lastPosition = max(lastPosition, position)
            timeline.wrote(commit)
        }
    }
}
