import Crypto
import Foundation
import NIOHTTP1
import NIOCore
import TestFixtures

/// Malformed, unsigned, forged and oversized webhooks posted to a running `git2kv serve`. Each
/// must get its documented answer, the daemon must stay healthy, forged ones must be counted
/// in /metrics, and the secret must never reach the log.
struct WebhookCorpus {
    let root: String

    private struct Case {
        let input: String
        var repo = "github-repo"
        var headers: [(String, String)] = []
        var body: [UInt8] = Array(#"{"ref": "refs/heads/main", "after": "0000000000000000000000000000000000000001"}"#.utf8)
        var sign = true
        let expectedStatus: Int
    }

    private static let secret = "webhook-secret-never-logged"

    private static func signature(_ body: [UInt8], secret: String = WebhookCorpus.secret) -> String {
        "sha256=" + HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: Array(secret.utf8))).map { String(format: "%02x", $0) }.joined()
    }

    private var cases: [Case] {
        let push = [("X-GitHub-Event", "push"), ("Content-Type", "application/json")]
        return [
            Case(input: "no signature", headers: push, sign: false, expectedStatus: 401),
            Case(input: "signature made with another secret", headers: push + [("X-Hub-Signature-256", Self.signature([1], secret: "guess"))],
                 sign: false, expectedStatus: 403),
            Case(input: "signature of another body", headers: push + [("X-Hub-Signature-256", Self.signature(Array("{}".utf8)))], sign: false,
                 expectedStatus: 403),
            Case(input: "signature that is not hex", headers: push + [("X-Hub-Signature-256", "sha256=zz-not-hex")], sign: false, expectedStatus: 403),
            Case(input: "signature with the wrong algorithm", headers: push + [("X-Hub-Signature-256", "sha1=0123456789abcdef0123456789abcdef01234567")],
                 sign: false, expectedStatus: 403),
            Case(input: "signed body that is not JSON", headers: push, body: Array("ref=refs/heads/main".utf8), expectedStatus: 400),
            Case(input: "signed JSON that is not a push", headers: push, body: Array(#"{"zen": "Keep it logically awesome."}"#.utf8), expectedStatus: 400),
            Case(input: "signed push with a ref of the wrong type", headers: push, body: Array(#"{"ref": 42}"#.utf8), expectedStatus: 400),
            Case(input: "signed ping (answered, nothing synced)", headers: [("X-GitHub-Event", "ping")], body: Array(#"{"zen": "hi"}"#.utf8),
                 expectedStatus: 202),
            Case(input: "unknown repository", repo: "nobody", headers: push, expectedStatus: 404),
            Case(input: "repository without a webhook", repo: "polled-repo", headers: push, expectedStatus: 404),
            Case(input: "body over max_webhook_bytes", headers: push, body: Array(repeating: 0x20, count: 10_000), expectedStatus: 413),
            Case(input: "control: a signed push of main", headers: push, expectedStatus: 202),
        ]
    }

    func run() async throws -> [CorpusOutcome] {
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        let (server, kvPort) = try Git2KVBinary.startKVServer()
        defer { server.kill() }
        let repository = try FixtureRepository(at: root + "/origin.git")
        try repository.commit("initial", changes: [.text("apps/web/port", "80")])
        let httpPort = ClosedPort.find()
        let config = root + "/git2kv.yaml"
        try """
            kv: { address: "http://127.0.0.1:\(kvPort)" }
            state_dir: \(root)/state
            http: { listen: "127.0.0.1:\(httpPort)", max_webhook_bytes: 4KiB }
            ha: { enabled: false }
            repos:
              - name: github-repo
                url: "\(repository.url)"
                poll_interval: 1h
                webhook: { provider: github, secret_env: CORPUS_WEBHOOK_SECRET }
                mappings: [{ source: apps, prefix: hooks/github }]
              - name: polled-repo
                url: "\(repository.url)"
                poll_interval: 1h
                mappings: [{ source: apps, prefix: hooks/polled }]

            """.write(toFile: config, atomically: true, encoding: .utf8)
        let log = root + "/daemon.log"
        let daemon = SupervisedProcess(
            name: "daemon", executable: Git2KVBinary.path, arguments: ["serve", "--config", config, "--log-level", "debug"],
            environment: ["CORPUS_WEBHOOK_SECRET": Self.secret], logPath: log, healthURL: "http://127.0.0.1:\(httpPort)/health")
        try daemon.start()
        defer { daemon.kill9() }
        guard await HTTPProbe.waitUntilHealthy(daemon.healthURL, timeout: .seconds(60)) else {
            throw ReliabilityFailure("the webhook corpus's daemon did not start (see \(log))")
        }

        var outcomes: [CorpusOutcome] = []
        for item in cases {
            var headers = item.headers
            if item.sign { headers.append(("X-Hub-Signature-256", Self.signature(item.body))) }
            let status = await HTTPProbe.status("http://127.0.0.1:\(httpPort)/webhooks/\(item.repo)", method: .POST, headers: headers, body: item.body)
            var problem: String? = status == item.expectedStatus ? nil : "answered \(status.map(String.init) ?? "nothing") instead of \(item.expectedStatus)"
            if problem == nil, await HTTPProbe.status(daemon.healthURL) != 200 { problem = "the daemon stopped answering /health afterwards" }
            outcomes.append(CorpusOutcome(category: "webhooks", input: item.input, problem: problem))
        }
        let metrics = await HTTPProbe.text("http://127.0.0.1:\(httpPort)/metrics") ?? ""
        let forged = metrics.split(separator: "\n").filter { $0.hasPrefix("git2kv_webhooks_total") && $0.contains("outcome=\"forged\"") }
            .compactMap { Double($0.split(separator: " ").last ?? "") }.reduce(0, +)
        outcomes.append(CorpusOutcome(
            category: "webhooks", input: "forged webhooks counted in /metrics",
            problem: forged >= 4 ? nil : "git2kv_webhooks_total{outcome=\"forged\"} is \(forged), expected at least 4"))
        daemon.terminate()
        let logged = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        outcomes.append(CorpusOutcome(
            category: "webhooks", input: "the secret stays out of the log", problem: logged.contains(Self.secret) ? "the daemon log shows the webhook secret" : nil))
        return outcomes
    }
}
