import AsyncHTTPClient
import BenchmarkStateWait
import BenchmarkSupport
import Daemon
import Foundation
import KV
import NIOCore
import Pipeline
import TestFixtures

/// Issue 5's benchmarks, with the release binaries: a signed GitHub webhook for a one-file
/// commit (file:// remote) until the KV transaction is acknowledged — seen by a blocking query
/// on the state key — next to `git fetch` of the same commit by the git CLI; and the RSS of
/// an idle `git2kv serve` following 20 mappings.
enum ServeBenchmark {
    static let secret = "benchmark-webhook-secret"

    static func run(rounds: Int) async throws -> String {
        let directory = try TemporaryDirectory(prefix: "git2kv-bench-serve")
        defer { directory.remove() }
        let (kvServer, kvPort) = try Git2KVBinary.startKVServer()
        defer { kvServer.kill() }
        let kv = ConsulClient(.init(address: "http://127.0.0.1:\(kvPort)"))
        let fixture = try FixtureRepository(at: directory.appending("origin.git"))
        try fixture.commit("1,000 files", changes: StandardFixtures.manyFiles(directories: 20, filesPerDirectory: 50))

        let latency = try await webhookLatency(rounds: rounds, directory: directory, fixture: fixture, kv: kv)
        let memory = try await idleMemory(directory: directory, fixture: fixture, kv: kv)
        return """
            Machine: \(machineDescription()); \(rounds) rounds, medians.

            | measure | git2kv serve | peer (`git fetch` of the same commit) | ratio | target |
            |---|---|---|---|---|
            | signed webhook → KV transaction acknowledged, one-file commit | \(formatMilliseconds(latency.webhook.median)) (min \(formatMilliseconds(latency.webhook.minimum)), max \(formatMilliseconds(latency.webhook.maximum))) | \(formatMilliseconds(latency.fetch.median)) | \(String(format: "%.1f×", latency.webhook.median.milliseconds / max(latency.fetch.median.milliseconds, 0.001))) | under 200 ms |

            | measure | result | target |
            |---|---|---|
            | idle `git2kv serve`, 20 mappings (all synced, 3 s quiet): RSS | \(memory.idle) MiB | under 100 MB |
            | same process, peak RSS since start | \(memory.peak) MiB | — |

            \(targetLine("webhook to acknowledged transaction under 200 ms", met: latency.webhook.median < .milliseconds(200), measured: formatMilliseconds(latency.webhook.median)))
            \(targetLine("idle RSS under 100 MB", met: memory.idle * 1_048_576 < 100_000_000, measured: "\(memory.idle) MiB"))
            """
    }

    struct Latency {
        var webhook = Timings(name: "webhook to acknowledged")
        var fetch = Timings(name: "git fetch")
    }

    static func webhookLatency(rounds: Int, directory: TemporaryDirectory, fixture: FixtureRepository, kv: ConsulClient) async throws -> Latency {
        let secretFile = directory.appending("webhook-secret")
        try secret.write(toFile: secretFile, atomically: true, encoding: .utf8)
        let configFile = directory.appending("latency.yaml")
        try DaemonConfigText.yaml(
            kvAddress: kv.configuration.address, stateDirectory: directory.appending("state-latency"), repoURL: fixture.url,
            mappings: "[{source: apps, prefix: bench/latency}]",
            repoSettings: ["poll_interval: 1h", "webhook: { provider: github, secret_file: \(secretFile) }"],
            topLevel: ["http: { listen: \"127.0.0.1:0\" }"]
        ).write(toFile: configFile, atomically: true, encoding: .utf8)
        let serve = try BackgroundProcess(Git2KVBinary.path, ["serve", "--config", configFile, "--log-level", "error"])
        defer { serve.kill(SIGTERM) }
        guard let port = serve.announcedPort else { throw BenchmarkFailure("serve did not announce its port: \(serve.firstLine)") }
        _ = try await StateKeyWait.commit(try fixture.head(), prefix: "bench/latency", kv: kv, after: nil)

        let peerClone = directory.appending("peer.git")
        try GitCLI.run(["clone", "--quiet", "--mirror", fixture.url, peerClone])
        var latency = Latency()
        let clock = ContinuousClock()
        for round in 0..<rounds {
            let path = StandardFixtures.path(directory: round % 20, file: round % 50)
            let head = try fixture.commit(
                "change \(round)", changes: [.text(path, StandardFixtures.content(directory: round % 20, file: round % 50, revision: round + 1))])
            let stateIndex = try await kv.get("bench/latency/.git2kv/state").value?.modifyIndex
            let body = Array(#"{"ref":"refs/heads/main","after":"\#(head)"}"#.utf8)
            let started = clock.now
            var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/webhooks/config")
            request.method = .POST
            request.headers.add(name: "X-GitHub-Event", value: "push")
            request.headers.add(name: "X-Hub-Signature-256", value: "sha256=" + WebhookSignature.sign(body, secret: secret))
            request.body = .bytes(ByteBuffer(bytes: body))
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
            guard response.status.code == 202 else { throw BenchmarkFailure("webhook answered \(response.status)") }
            _ = try await response.body.collect(upTo: 1 << 20)
            let acknowledged = try await StateKeyWait.commit(head, prefix: "bench/latency", kv: kv, after: stateIndex)
            latency.webhook.record(started.duration(to: acknowledged))
            latency.fetch.record(try clock.measure { try GitCLI.run(["fetch", "--quiet", "origin"], in: peerClone) })
        }
        return latency
    }

    static func idleMemory(directory: TemporaryDirectory, fixture: FixtureRepository, kv: ConsulClient) async throws -> (idle: Int, peak: Int) {
        let mappings = (0..<20).map { "{source: apps/dir-\(String(format: "%03d", $0)), prefix: bench/idle/m\($0)}" }.joined(separator: ", ")
        let configFile = directory.appending("idle.yaml")
        try DaemonConfigText.yaml(
            kvAddress: kv.configuration.address, stateDirectory: directory.appending("state-idle"), repoURL: fixture.url,
            mappings: "[\(mappings)]", repoSettings: ["poll_interval: 30s"], topLevel: ["http: { listen: \"127.0.0.1:0\" }"]
        ).write(toFile: configFile, atomically: true, encoding: .utf8)
        let serve = try BackgroundProcess(Git2KVBinary.path, ["serve", "--config", configFile, "--log-level", "error"])
        defer { serve.kill(SIGTERM) }
        let head = try fixture.head()
        for index in 0..<20 { _ = try await StateKeyWait.commit(head, prefix: "bench/idle/m\(index)", kv: kv, after: nil) }
        try await Task.sleep(for: .seconds(3))
        let status = try String(contentsOfFile: "/proc/\(serve.processIdentifier)/status", encoding: .utf8)
        func mebibytes(_ field: String) -> Int {
            let line = status.split(separator: "\n").first { $0.hasPrefix(field + ":") } ?? ""
            let kilobytes = Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0
            return kilobytes / 1024
        }
        return (mebibytes("VmRSS"), mebibytes("VmHWM"))
    }
}
