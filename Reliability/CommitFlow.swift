import Foundation
import NIOHTTP1
import TestFixtures

/// Keeps commits flowing on a thread of its own (the git CLI blocks), every 100 to 400 ms,
/// and announces about half of them with a signed generic webhook; the rest the poll finds.
final class CommitFlow: @unchecked Sendable {
    private let commits: CommitStream
    private let workspace: ChaosWorkspace
    private let findings: Findings
    private let lock = NSLock()
    private var generator: SeededGenerator
    private var stopping = false
    private var finished = false

    init(commits: CommitStream, workspace: ChaosWorkspace, findings: Findings, seed: UInt64) {
        self.commits = commits
        self.workspace = workspace
        self.findings = findings
        generator = SeededGenerator(seed: seed)
    }

    func start() {
        Thread { [self] in
            while !lock.withLock({ stopping }) {
                usleep(UInt32(Int.random(in: 100...400, using: &generator)) * 1000)
                do {
                    try commits.commitNext()
                    findings.count("commits during chaos")
                } catch {
                    findings.violation("the fixture could not commit: \(error)")
                }
                if Bool.random(using: &generator) {
                    Task { _ = await self.postWebhook() }
                }
            }
            lock.withLock { finished = true }
        }.start()
    }

    func stop() async {
        lock.withLock { stopping = true }
        while !lock.withLock({ finished }) { try? await Task.sleep(for: .milliseconds(20)) }
    }

    /// Posts a push of `main`, as a forge would; counts whether the daemon took it.
    @discardableResult
    func postWebhook() async -> Int? {
        let status = await HTTPProbe.status(
            workspace.daemonAddress + "/webhooks/config", method: .POST,
            headers: [("X-Git2kv-Token", ChaosWorkspace.webhookSecret), ("Content-Type", "application/json")],
            body: Array(#"{"branch": "main"}"#.utf8))
        switch status {
        case nil: findings.count("webhooks unanswered (daemon down)")
        case .some(200..<300): findings.count("webhooks accepted")
        case .some(let code): findings.violation("a signed webhook was answered \(code)")
        }
        return status
    }
}
