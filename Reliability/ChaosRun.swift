import Foundation
import KV
import TestFixtures

/// The chaos half of the reliability suite: commits flow into the origin while kv-server (with
/// its data directory), the daemon and the renderer are each killed with SIGKILL at random
/// moments and restarted; watchers check every KV value and every rendered file meanwhile, and
/// at the end KV must equal git and every rendered file its expected render.
struct ChaosRun {
    let cyclesPerProcess: Int
    let seed: UInt64
    let root: String

    func run() async throws -> ChaosReport {
        let workspace = try ChaosWorkspace.create(in: root)
        let history = ConfigHistory()
        let findings = Findings()
        let repository = try FixtureRepository(at: workspace.origin)
        let commits = CommitStream(repository: repository, history: history, workspace: workspace, seed: seed)
        try commits.commitInitial()

        let binary = Git2KVBinary.path
        let kvServer = SupervisedProcess(
            name: "kv-server", executable: binary,
            arguments: ["kv-server", "--listen", "127.0.0.1:\(workspace.kvPort)", "--data-dir", workspace.kvDataDirectory],
            logPath: workspace.log("kv-server"), healthURL: workspace.kvAddress + "/v1/status/leader")
        let daemon = SupervisedProcess(
            name: "daemon", executable: binary, arguments: ["serve", "--config", workspace.daemonConfig, "--log-level", "warning"],
            environment: ["RELIABILITY_WEBHOOK_SECRET": ChaosWorkspace.webhookSecret],
            logPath: workspace.log("daemon"), healthURL: workspace.daemonAddress + "/health")
        let renderer = SupervisedProcess(
            name: "renderer", executable: binary, arguments: ["render", "--config", workspace.rendererConfig, "--log-level", "warning"],
            logPath: workspace.log("renderer"), healthURL: workspace.rendererAddress + "/health")
        let processes = [kvServer, daemon, renderer]
        defer { processes.forEach { $0.kill9() } }

        let kv = ConsulClient(.init(address: workspace.kvAddress, requestTimeout: .seconds(5)))
        let convergence = Convergence(kv: kv, history: history, workspace: workspace)
        for process in processes {
            try process.start()
            guard await HTTPProbe.waitUntilHealthy(process.healthURL, timeout: .seconds(60)) else {
                throw ReliabilityFailure("\(process.name) did not become healthy at start (see \(workspace.log(process.name)))")
            }
        }
        guard await convergence.wait(timeout: .seconds(120)) else {
            throw ReliabilityFailure("the first sync and render did not finish within 120 s (logs in \(workspace.root)/logs)")
        }

        let watchers = [
            Task { await KVValueWatcher(kv: kv, history: history, findings: findings).run() },
            Task {
                await RenderedFileWatcher(destinations: [workspace.webConf, workspace.settingsJSON, workspace.blob], history: history, findings: findings).run()
            },
        ]
        let flow = CommitFlow(commits: commits, workspace: workspace, findings: findings, seed: seed &+ 1)
        flow.start()

        let started = ContinuousClock.now
        var generator = SeededGenerator(seed: seed &+ 2)
        var survived: [String: Int] = [:]
        for round in 0..<cyclesPerProcess {
            for process in processes.shuffled(using: &generator) {
                try await Task.sleep(for: .milliseconds(Int.random(in: 200...1200, using: &generator)))
                process.kill9()
                try await Task.sleep(for: .milliseconds(Int.random(in: 0...300, using: &generator)))
                try process.start()
                if await HTTPProbe.waitUntilHealthy(process.healthURL, timeout: .seconds(60)) {
                    survived[process.name, default: 0] += 1
                } else {
                    findings.violation("\(process.name) did not come back within 60 s after kill -9 in round \(round + 1)")
                }
            }
            if (round + 1) % 10 == 0 {
                FileHandle.standardError.write(Data("chaos: round \(round + 1) of \(cyclesPerProcess), \(history.commits.count) commits\n".utf8))
            }
        }
        let chaosDuration = ContinuousClock.now - started
        await flow.stop()
        try commits.commitNext()
        _ = await flow.postWebhook()

        let converged = await convergence.wait(timeout: .seconds(180))
        if !converged { findings.violation("KV and the rendered files did not settle on the last commit within 180 s") }
        try await Task.sleep(for: .milliseconds(500))
        watchers.forEach { $0.cancel() }
        for watcher in watchers { await watcher.value }

        let final = await convergence.compare()
        let commandRuns = convergence.commandRuns()
        var stoppedCleanly: [String] = []
        for process in processes.reversed() where process.terminate() { stoppedCleanly.append(process.name) }
        return ChaosReport(
            seed: seed, duration: chaosDuration, commits: history.commits.count, kills: cyclesPerProcess, survived: survived,
            findings: findings, finalMismatches: final, commandRuns: commandRuns, stoppedCleanly: stoppedCleanly,
            processNames: processes.map(\.name), workspace: workspace.root)
    }
}
