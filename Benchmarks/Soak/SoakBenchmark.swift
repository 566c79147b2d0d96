import AsyncHTTPClient
import BenchmarkStateWait
import BenchmarkSupport
import Foundation
import KV
import NIOCore
import Pipeline
import TestFixtures

/// `serve` for months, compressed: the release binary syncs thousands of webhook-announced
/// commits (alternating a bundle-layout and a files-layout mapping) while it also polls every
/// second, and its resident memory is read after a warm-up and at the end. A per-sync leak
/// shows as growth; the target is under 5 MiB over the whole run.
enum SoakBenchmark {
    static let secret = "soak-webhook-secret"

    static func run(syncs: Int) async throws -> String {
        let directory = try TemporaryDirectory(prefix: "git2kv-bench-soak")
        defer { directory.remove() }
        let (kvServer, kvPort) = try Git2KVBinary.startKVServer()
        defer { kvServer.kill() }
        let kv = ConsulClient(.init(address: "http://127.0.0.1:\(kvPort)"))
        let fixture = try FixtureRepository(at: directory.appending("origin.git"))
        try fixture.commit(
            "start",
            changes: StandardFixtures.manyFiles(directories: 5, filesPerDirectory: 20)
                + (0..<20).map { .text("flat/key-\($0)", "value \($0)") })
        let secretFile = directory.appending("webhook-secret")
        try secret.write(toFile: secretFile, atomically: true, encoding: .utf8)
        let configFile = directory.appending("soak.yaml")
        try DaemonConfigText.yaml(
            kvAddress: kv.configuration.address, stateDirectory: directory.appending("state"), repoURL: fixture.url,
            mappings: "[{source: apps, prefix: soak/apps}, {source: flat, prefix: soak/flat, layout: files}]",
            repoSettings: ["poll_interval: 1s", "webhook: { provider: generic, secret_file: \(secretFile) }"],
            topLevel: ["http: { listen: \"127.0.0.1:0\" }"]
        ).write(toFile: configFile, atomically: true, encoding: .utf8)
        let serveLog = directory.appending("serve.log")
        let serve = try BackgroundProcess(
            Git2KVBinary.path, ["serve", "--config", configFile, "--log-level", "info"], standardErrorFile: serveLog)
        defer { serve.kill(SIGTERM) }
        guard let port = serve.announcedPort else { throw BenchmarkFailure("serve did not announce its port: \(serve.firstLine)") }
        let start = try fixture.head()
        _ = try await StateKeyWait.commit(start, prefix: "soak/apps", kv: kv)
        _ = try await StateKeyWait.commit(start, prefix: "soak/flat", kv: kv)

        let warmUp = max(syncs / 20, 100)
        var warmRSS = 0
        var warmAnonymous = 0
        let started = ContinuousClock.now
        var latencies = Timings(name: "webhook to acknowledged")
        for round in 0..<syncs {
            if round == warmUp {
                (warmRSS, warmAnonymous) = try await settledMemory(of: serve.processIdentifier)
            }
            let bundleLayout = round % 2 == 0
            let prefix = bundleLayout ? "soak/apps" : "soak/flat"
            let change: FixtureChange =
                bundleLayout
                ? .text(StandardFixtures.path(directory: round % 5, file: round % 20), StandardFixtures.content(directory: round % 5, file: round % 20, revision: round + 1))
                : .text("flat/key-\(round % 20)", "value after round \(round)")
            let head = try fixture.commit("soak \(round)", changes: [change])
            let index = try await kv.get(prefix + "/.git2kv/state").index
            let posted = ContinuousClock.now
            try await postWebhook(port: port, head: head)
            let acknowledged: ContinuousClock.Instant
            do {
                acknowledged = try await StateKeyWait.commit(head, prefix: prefix, kv: kv, after: index)
            } catch {
                let log = (try? String(contentsOfFile: serveLog, encoding: .utf8)) ?? ""
                throw BenchmarkFailure("round \(round): \(error)\nserve's log ends:\n\(log.split(separator: "\n").suffix(30).joined(separator: "\n"))")
            }
            latencies.record(posted.duration(to: acknowledged))
        }
        let elapsed = started.duration(to: .now)
        let (endRSS, endAnonymous) = try await settledMemory(of: serve.processIdentifier)
        let peakRSS = ResidentMemory.peakKilobytes(of: serve.processIdentifier) ?? 0
        let metrics = try ProcessRunner.run("/usr/bin/curl", ["-s", "http://127.0.0.1:\(port)/metrics"]).output
        let passes = syncPasses(in: metrics)
        let growth = Double(endRSS - warmRSS) / 1024
        return """
            Machine: \(machineDescription()); \(syncs) webhook-announced commits, alternating a bundle-layout and a files-layout mapping, with 1 s polls beside them.

            | measure | result | target |
            |---|---|---|
            | sync passes (commits and polls, both mappings) | \(passes) in \(String(format: "%.0f", elapsed.inSeconds)) s | — |
            | webhook → KV, per commit | median \(formatMilliseconds(latencies.median)) | — |
            | RSS after \(warmUp) commits (warm) | \(String(format: "%.1f", Double(warmRSS) / 1024)) MiB | — |
            | RSS at the end | \(String(format: "%.1f", Double(endRSS) / 1024)) MiB | — |
            | growth from warm to end | \(String(format: "%.1f", growth)) MiB | under 5 MiB |
            | of which anonymous memory (heap, stacks; the rest is pages of mapped files such as the binary's code) | \(String(format: "%.1f", Double(endAnonymous - warmAnonymous) / 1024)) MiB | — |
            | peak RSS over the run (VmHWM: in-flight syncs, freed afterwards) | \(String(format: "%.1f", Double(peakRSS) / 1024)) MiB | — |

            \(targetLine("soak growth under 5 MiB over \(syncs) commits", met: growth < 5, measured: String(format: "%.1f MiB", growth)))
            """
    }

    static func postWebhook(port: Int, head: String) async throws {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/webhooks/config")
        request.method = .POST
        request.headers.add(name: "X-Git2kv-Token", value: secret)
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(bytes: Array(#"{"ref":"refs/heads/main","after":"\#(head)"}"#.utf8)))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        _ = try await response.body.collect(upTo: 1 << 20)
        guard response.status.code == 202 else { throw BenchmarkFailure("webhook answered \(response.status)") }
    }

    /// What the daemon keeps, not what a sync in flight holds for a moment: the smallest of five
    /// samples a second apart (polls keep running meanwhile), RSS with its anonymous part. One
    /// sample could land on a sync's transient buffers (seen: +15 MiB for a second under load).
    static func settledMemory(of pid: Int32) async throws -> (Int, Int) {
        var best: (Int, Int)?
        for sample in 0..<5 {
            if sample > 0 { try await Task.sleep(for: .seconds(1)) }
            guard let resident = ResidentMemory.kilobytes(of: pid) else { throw BenchmarkFailure("cannot read the RSS of process \(pid)") }
            let anonymous = ResidentMemory.anonymousKilobytes(of: pid) ?? 0
            if best.map({ resident < $0.0 }) ?? true { best = (resident, anonymous) }
        }
        return best ?? (0, 0)
    }

    /// The sum of `git2kv_syncs_total` over its labels.
    static func syncPasses(in metrics: String) -> Int {
        metrics.split(separator: "\n").filter { $0.hasPrefix("git2kv_syncs_total") }.compactMap { line in
            line.split(separator: " ").last.flatMap { Double($0) }.map { Int($0) }
        }.reduce(0, +)
    }
}
