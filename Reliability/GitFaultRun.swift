import Foundation
import KV
import Pipeline
import TestFixtures

/// Git servers that fail while commits flow to a healthy repo beside them: one accepts
/// connections and never answers, one refuses them, one serves and then disappears. `serve`
/// polls every repo each second with a sync slot fewer than the repos; the healthy repo must
/// never wait longer than its poll interval plus one sync (plus one fault's deadline holding a
/// slot). Reports the worst wait and whether SIGTERM stopped serve in time mid-fetch.
struct GitFaultRun {
    static let pollInterval = Duration.seconds(1)
    static let connectTimeout = Duration.seconds(2)
    static let goal = pollInterval + .seconds(1) + connectTimeout

    let commits: Int
    let root: String

    func run() async throws -> ScenarioReport {
        try FileManager.default.createDirectory(atPath: root + "/logs", withIntermediateDirectories: true)
        let ports = ClosedPort.find(count: 3)
        let kvAddress = "http://127.0.0.1:\(ports[0])"
        let healthy = try FixtureRepository(at: root + "/healthy.git")
        try healthy.commit("initial", changes: [.text("apps/web/sequence", "0")])
        let served = try FixtureRepository(at: root + "/served/vanishing.git")
        try served.commit("initial", changes: [.text("apps/web/sequence", "0")])
        let silent = try SilentServer()
        defer { silent.stop() }
        let vanishing = try GitHTTPServer(root: root + "/served", username: nil)
        var vanished = false
        defer { if !vanished { vanishing.stop() } }
        let binary = Git2KVBinary.path
        let config = root + "/serve.yaml"
        func repo(_ name: String, _ url: String, prefix: String) -> String {
            """
              - name: \(name)
                url: "\(url)"
                poll_interval: 1s
                timeouts: { connect: 2s, inactivity: 2s }
                mappings: [{ source: apps, prefix: \(prefix) }]
            """
        }
        try ([
            "kv: { address: \"\(kvAddress)\", timeout: 5s }", "state_dir: \(root)/state", "http: { listen: \"127.0.0.1:\(ports[1])\" }",
            "ha: { enabled: false }", "limits: { concurrent_syncs: 2 }", "repos:",
            repo("hangs", silent.url(for: "config.git"), prefix: "fault/hangs"),
            repo("refuses", "http://127.0.0.1:\(ports[2])/config.git", prefix: "fault/refuses"),
            repo("vanishes", vanishing.url(for: "vanishing.git"), prefix: "fault/vanishes"),
            repo("healthy", healthy.url, prefix: "config/apps"),
        ].joined(separator: "\n") + "\n").write(toFile: config, atomically: true, encoding: .utf8)
        let kvServer = SupervisedProcess(
            name: "kv-server", executable: binary, arguments: ["kv-server", "--listen", "127.0.0.1:\(ports[0])"],
            logPath: root + "/logs/kv-server.log", healthURL: kvAddress + "/v1/status/leader")
        let serve = SupervisedProcess(
            name: "serve", executable: binary, arguments: ["serve", "--config", config, "--log-level", "info"],
            logPath: root + "/logs/serve.log", healthURL: "http://127.0.0.1:\(ports[1])/health")
        defer { [serve, kvServer].forEach { $0.kill9() } }
        for process in [kvServer, serve] {
            try process.start()
            guard await HTTPProbe.waitUntilHealthy(process.healthURL, timeout: .seconds(60)) else {
                throw ReliabilityFailure("\(process.name) did not answer at start (see \(root)/logs)")
            }
        }

        let findings = Findings()
        let kv = ConsulClient(.init(address: kvAddress, requestTimeout: .seconds(5)))
        let timeline = CommitTimeline()
        timeline.made(try healthy.head())
        let watcher = Task { await StateWatcher(kv: kv, key: "config/apps/.git2kv/state", timeline: timeline, findings: findings).run() }
        for sequence in 1...commits {
            if sequence == commits / 2 {
                vanishing.stop()
                vanished = true
            }
            timeline.made(try healthy.commit("sequence \(sequence)", changes: [.text("apps/web/sequence", "\(sequence)")]))
            try await Task.sleep(for: .milliseconds(300))
        }
        let last = try healthy.commit("final", changes: [.text("apps/web/sequence", "final")])
        timeline.made(last)
        let deadline = ContinuousClock.now + .seconds(30)
        while timeline.writtenAt(last) == nil, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
        if timeline.writtenAt(last) == nil { findings.violation("the healthy repo's last commit was not in KV within 30 s") }
        watcher.cancel()
        await watcher.value

        let health = (try? ProcessRunner.run("/usr/bin/curl", ["-s", "--max-time", "5", "http://127.0.0.1:\(ports[1])/health"]).output) ?? ""
        for name in ["hangs", "refuses", "vanishes"] where !health.contains("\"\(name)\"") || !Self.reportsProblem(health, repo: name) {
            findings.violation("/health does not name a problem for the \(name) repo")
        }
        let stopping = ContinuousClock.now
        let stoppedCleanly = serve.terminate(grace: 10)
        let stopTime = stopping.duration(to: .now)
        if !stoppedCleanly { findings.violation("serve did not exit within 10 s of SIGTERM while fetches hung") }

        let gaps = timeline.gaps()
        let longest = gaps.max() ?? .zero
        let median = gaps.isEmpty ? .zero : gaps.sorted()[gaps.count / 2]
        if longest >= Self.goal {
            findings.violation("a healthy commit waited \(RollingRestartRun.format(longest)) beside the failing git servers (goal: under \(RollingRestartRun.format(Self.goal)))")
        }
        let lines = [
            "git faults: a server that hangs (\(silent.connections) connections held), one that refuses, one that vanished mid-run, beside a healthy repo (poll 1 s, 2 sync slots for 4 repos)",
            "healthy commits: \(gaps.count); commit → KV median \(RollingRestartRun.format(median)), worst \(RollingRestartRun.format(longest)) (goal under \(RollingRestartRun.format(Self.goal)))",
            "SIGTERM with fetches hanging: exited in \(RollingRestartRun.format(stopTime))\(stoppedCleanly ? "" : " (not cleanly)")",
        ] + findings.violations.prefix(20).map { "violation: \($0)" }
        return ScenarioReport(lines: lines, passed: findings.violations.isEmpty)
    }

    /// Whether the /health JSON lists problems for `repo`.
    static func reportsProblem(_ health: String, repo: String) -> Bool {
        guard let data = health.data(using: .utf8),
            let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
            let repos = object["repos"] as? [[String: Any]],
            let entry = repos.first(where: { $0["name"] as? String == repo })
        else { return false }
        return !((entry["problems"] as? [Any]) ?? []).isEmpty
    }
}
