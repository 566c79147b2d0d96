import AsyncHTTPClient
import BenchmarkStateWait
import BenchmarkSupport
import Foundation
import KV
import NIOCore
import Pipeline
import TestFixtures

/// A large repository: 100,000 files in 1,000 directories. The release binaries, kv-server
/// behind a proxy that counts the bytes `serve` exchanges with it: initial `git2kv sync` next to
/// `git clone --mirror` of the same repository (the peer), then one-file commits announced by
/// webhook, each timed from the webhook to the state key naming it, with its KV traffic.
enum ScaleBenchmark {
    static let secret = "scale-webhook-secret"

    static func run(commits: Int) async throws -> String {
        let directory = try TemporaryDirectory(prefix: "git2kv-bench-scale")
        defer { directory.remove() }
        let fixture = try FixtureRepository(at: directory.appending("origin.git"))
        try fixture.commit("100,000 files", changes: StandardFixtures.manyFiles(directories: 1_000, filesPerDirectory: 100))
        let (kvServer, kvPort) = try Git2KVBinary.startKVServer()
        defer { kvServer.kill() }
        let proxy = try ByteCountingProxy(upstreamPort: kvPort)
        let kv = ConsulClient(.init(address: "http://127.0.0.1:\(kvPort)"))
        let clock = ContinuousClock()

        // Over smart HTTP (git's http-backend behind a loopback server; the remote packs, as a
        // forge does) and over file:// (libgit2's local transport packs the objects itself).
        let httpServer = try GitHTTPServer(root: directory.path, username: nil)
        defer { httpServer.stop() }
        let transports = [("smart HTTP", httpServer.url(for: "origin.git")), ("file://", fixture.url)]
        var initial: [Timings] = []
        var clone: [Timings] = []
        for (transport, url) in transports {
            var syncs = Timings(name: "git2kv sync over \(transport)")
            var clones = Timings(name: "git clone --mirror over \(transport)")
            for round in 0..<3 {
                let name = "\(initial.count)-\(round)"
                let config = directory.appending("initial-\(name).yaml")
                try DaemonConfigText.yaml(
                    kvAddress: "http://127.0.0.1:\(kvPort)", stateDirectory: directory.appending("initial-state-\(name)"), repoURL: url,
                    mappings: "[{source: apps, prefix: scale/initial-\(name)}]"
                ).write(toFile: config, atomically: true, encoding: .utf8)
                syncs.record(
                    try clock.measure {
                        let result = try Git2KVBinary.run(["sync", "--config", config])
                        guard result.status == 0 else { throw BenchmarkFailure("git2kv sync failed: \(result.errors.suffix(500))") }
                    })
                clones.record(try clock.measure { try GitCLI.run(["clone", "--quiet", "--mirror", url, directory.appending("clone-\(name).git")]) })
            }
            initial.append(syncs)
            clone.append(clones)
        }

        let secretFile = directory.appending("webhook-secret")
        try secret.write(toFile: secretFile, atomically: true, encoding: .utf8)
        let configFile = directory.appending("serve.yaml")
        try DaemonConfigText.yaml(
            kvAddress: "http://127.0.0.1:\(proxy.port)", stateDirectory: directory.appending("serve-state"), repoURL: fixture.url,
            mappings: "[{source: apps, prefix: scale/apps}]",
            repoSettings: ["poll_interval: 1h", "webhook: { provider: generic, secret_file: \(secretFile) }"],
            topLevel: ["http: { listen: \"127.0.0.1:0\" }", "ha: { enabled: false }"]
        ).write(toFile: configFile, atomically: true, encoding: .utf8)
        let serve = try BackgroundProcess(Git2KVBinary.path, ["serve", "--config", configFile, "--log-level", "warning"])
        defer { serve.kill(SIGTERM) }
        guard let port = serve.announcedPort else { throw BenchmarkFailure("serve did not announce its port: \(serve.firstLine)") }
        _ = try await StateKeyWait.commit(try fixture.head(), prefix: "scale/apps", kv: kv, within: .seconds(300))

        var latency = Timings(name: "webhook → state key")
        var sent: [Double] = []
        var received: [Double] = []
        var bundleSizes: [Double] = []
        for round in 0..<commits {
            let dir = (round * 37) % 1_000
            let file = (round * 11) % 100
            let head = try fixture.commit(
                "scale \(round)",
                changes: [.text(StandardFixtures.path(directory: dir, file: file), StandardFixtures.content(directory: dir, file: file, revision: round + 1))])
            // Let the previous commit's trailing requests settle before counting.
            try await Task.sleep(for: .milliseconds(200))
            let (sentBefore, receivedBefore) = (proxy.sent, proxy.received)
            let index = try await kv.get("scale/apps/.git2kv/state").index
            let posted = clock.now
            try await postWebhook(port: port, head: head)
            let acknowledged = try await StateKeyWait.commit(head, prefix: "scale/apps", kv: kv, after: index)
            latency.record(posted.duration(to: acknowledged))
            try await Task.sleep(for: .milliseconds(200))
            sent.append(Double(proxy.sent - sentBefore))
            received.append(Double(proxy.received - receivedBefore))
            let bundle = String(format: "dir-%03d", dir)
            bundleSizes.append(Double(try await kv.get("scale/apps/" + bundle).value?.value.count ?? 0))
        }
        let ratios = zip(initial, clone).map { $0.median.milliseconds / max($1.median.milliseconds, 0.001) }
        var initialRows: [String] = []
        for (position, (transport, _)) in transports.enumerated() {
            for (what, timings) in [("initial `git2kv sync` over \(transport) (fetch in the worker, build, write 1,000 bundles)", initial[position]), ("`git clone --mirror` over \(transport) (peer)", clone[position])] {
                initialRows.append(
                    "| \(what) | \(formatMilliseconds(timings.median)) | \(formatMilliseconds(timings.minimum)) | \(formatMilliseconds(timings.maximum)) | — |")
            }
        }
        let beyondBundle = median(sent) + median(received) - 2 * median(bundleSizes)
        return """
            Machine: \(machineDescription()); 100,000 files in 1,000 directories, release binaries, kv-server behind a byte-counting proxy.

            | measure | median | min | max | target |
            |---|---|---|---|---|
            \(initialRows.joined(separator: "\n"))
            | one-file commit, webhook → state key (\(commits) commits) | \(formatMilliseconds(latency.median)) | \(formatMilliseconds(latency.minimum)) | \(formatMilliseconds(latency.maximum)) | under 100 ms |

            Initial sync / git clone --mirror: \(String(format: "%.2f", ratios[0]))× over smart HTTP (target under 4×), \(String(format: "%.2f", ratios[1]))× over file://.

            | KV traffic per one-file commit (medians) | bytes |
            |---|---|
            | sent by serve | \(Int(median(sent))) |
            | received by serve | \(Int(median(received))) |
            | the changed bundle's value | \(Int(median(bundleSizes))) |
            | beyond the bundle (sent + received − 2 × bundle) | \(Int(beyondBundle)) |

            \(targetLine("100,000 files: one-file commit webhook → KV under 100 ms", met: latency.median < .milliseconds(100), measured: formatMilliseconds(latency.median)))
            \(targetLine("100,000 files: KV traffic beyond the changed bundle under 20 KB", met: beyondBundle < 20_000, measured: "\(Int(beyondBundle)) bytes"))
            \(targetLine("100,000 files: initial sync under 4× git clone --mirror (smart HTTP)", met: ratios[0] < 4, measured: String(format: "%.2f×", ratios[0])))
            """
    }

    static func postWebhook(port: Int, head: String) async throws {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/webhooks/config")
        request.method = .POST
        request.headers.add(name: "X-Git2kv-Token", value: secret)
        request.body = .bytes(ByteBuffer(bytes: Array(#"{"ref":"refs/heads/main","after":"\#(head)"}"#.utf8)))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        _ = try await response.body.collect(upTo: 1 << 20)
        guard response.status.code == 202 else { throw BenchmarkFailure("webhook answered \(response.status)") }
    }
}
