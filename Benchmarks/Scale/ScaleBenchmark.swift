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
        // The webhook rounds, over each transport, beside `git fetch` of the same commit into a
        // mirror over the same transport (the peer: what the fetch alone costs git itself).
        var rounds: [WebhookRounds] = []
        for (position, (transport, url)) in transports.enumerated() {
            rounds.append(
                try await webhookRounds(
                    transport: transport, url: url, prefix: "scale/apps-\(position)", commits: commits, firstRevision: position * commits + 1,
                    fixture: fixture,
                    peerMirror: directory.appending("clone-\(position)-0.git"), secretFile: secretFile, directory: directory,
                    proxy: proxy, kv: kv))
        }
        let sent = rounds.flatMap(\.sent)
        let received = rounds.flatMap(\.received)
        let bundleSizes = rounds.flatMap(\.bundleSizes)
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
            \(rounds.map(\.rows).joined(separator: "\n"))

            Initial sync / git clone --mirror: \(String(format: "%.2f", ratios[0]))× over smart HTTP (target under 4×), \(String(format: "%.2f", ratios[1]))× over file://.
            Webhook → state key / `git fetch` of the same commit: \(rounds.map { String(format: "%.2f× over %@", $0.ratio, $0.transport) }.joined(separator: ", ")).

            | KV traffic per one-file commit (medians) | bytes |
            |---|---|
            | sent by serve | \(Int(median(sent))) |
            | received by serve | \(Int(median(received))) |
            | the changed bundle's value | \(Int(median(bundleSizes))) |
            | beyond the bundle (sent + received − 2 × bundle) | \(Int(beyondBundle)) |

            \(targetLine("100,000 files: one-file commit webhook → KV under 100 ms (smart HTTP)", met: rounds[0].latency.median < .milliseconds(100), measured: formatMilliseconds(rounds[0].latency.median)))
            \(targetLine("100,000 files: KV traffic beyond the changed bundle under 20 KB", met: beyondBundle < 20_000, measured: "\(Int(beyondBundle)) bytes"))
            \(targetLine("100,000 files: initial sync under 4× git clone --mirror (smart HTTP)", met: ratios[0] < 4, measured: String(format: "%.2f×", ratios[0])))
            """
    }

    struct WebhookRounds {
        let transport: String
        var latency = Timings(name: "webhook → state key")
        var peerFetch = Timings(name: "git fetch")
        var sent: [Double] = []
        var received: [Double] = []
        var bundleSizes: [Double] = []

        var ratio: Double { latency.median.milliseconds / max(peerFetch.median.milliseconds, 0.001) }

        var rows: String {
            let commits = latency.samples.count
            return [("one-file commit over \(transport), webhook → state key (\(commits) commits)", latency, "under 100 ms"), ("`git fetch` of that commit over \(transport) (peer)", peerFetch, "—")]
                .map { "| \($0.0) | \(formatMilliseconds($0.1.median)) | \(formatMilliseconds($0.1.minimum)) | \(formatMilliseconds($0.1.maximum)) | \($0.2) |" }
                .joined(separator: "\n")
        }
    }

    /// `serve` (HA off, hourly polls, a generic webhook) on `url`, through the counting proxy;
    /// one-file commits, each announced by webhook and timed to the state key naming it. Each
    /// run's revisions are its own: a commit that changes nothing under the mapping's source
    /// leaves the state key as it is, and the wait for it would never end.
    static func webhookRounds(
        transport: String, url: String, prefix: String, commits: Int, firstRevision: Int, fixture: FixtureRepository, peerMirror: String, secretFile: String,
        directory: TemporaryDirectory, proxy: ByteCountingProxy, kv: ConsulClient
    ) async throws -> WebhookRounds {
        let clock = ContinuousClock()
        let name = prefix.replacingOccurrences(of: "/", with: "-")
        let configFile = directory.appending("\(name).yaml")
        try DaemonConfigText.yaml(
            kvAddress: "http://127.0.0.1:\(proxy.port)", stateDirectory: directory.appending("\(name)-state"), repoURL: url,
            mappings: "[{source: apps, prefix: \(prefix)}]",
            repoSettings: ["poll_interval: 1h", "webhook: { provider: generic, secret_file: \(secretFile) }"],
            topLevel: ["http: { listen: \"127.0.0.1:0\" }", "ha: { enabled: false }"]
        ).write(toFile: configFile, atomically: true, encoding: .utf8)
        let serveLog = directory.appending("\(name)-serve.log")
        let serve = try BackgroundProcess(Git2KVBinary.path, ["serve", "--config", configFile, "--log-level", "info"], standardErrorFile: serveLog)
        defer { serve.kill(SIGTERM) }
        guard let port = serve.announcedPort else { throw BenchmarkFailure("serve did not announce its port: \(serve.firstLine)") }
        /// A wait that failed says what serve logged.
        func explained<T>(_ body: () async throws -> T) async throws -> T {
            do {
                return try await body()
            } catch {
                let log = (try? String(contentsOfFile: serveLog, encoding: .utf8)) ?? ""
                throw BenchmarkFailure("\(error); serve over \(transport) logged:\n\(log.suffix(3_000))")
            }
        }
        _ = try await explained { try await StateKeyWait.commit(try fixture.head(), prefix: prefix, kv: kv, within: .seconds(300)) }
        try GitCLI.run(["-C", peerMirror, "fetch", "--quiet"])

        var rounds = WebhookRounds(transport: transport)
        for round in 0..<commits {
            let dir = (round * 37) % 1_000
            let file = (round * 11) % 100
            let head = try fixture.commit(
                "scale \(transport) \(round)",
                changes: [.text(StandardFixtures.path(directory: dir, file: file), StandardFixtures.content(directory: dir, file: file, revision: firstRevision + round))])
            // Let the previous commit's trailing requests settle before counting.
            try await Task.sleep(for: .milliseconds(200))
            let (sentBefore, receivedBefore) = (proxy.sent, proxy.received)
            let index = try await kv.get(prefix + "/.git2kv/state").index
            let posted = clock.now
            try await postWebhook(port: port, head: head)
            let acknowledged = try await explained { try await StateKeyWait.commit(head, prefix: prefix, kv: kv, after: index) }
            rounds.latency.record(posted.duration(to: acknowledged))
            try await Task.sleep(for: .milliseconds(200))
            rounds.sent.append(Double(proxy.sent - sentBefore))
            rounds.received.append(Double(proxy.received - receivedBefore))
            let bundle = String(format: "dir-%03d", dir)
            rounds.bundleSizes.append(Double(try await kv.get(prefix + "/" + bundle).value?.value.count ?? 0))
            rounds.peerFetch.record(try clock.measure { try GitCLI.run(["-C", peerMirror, "fetch", "--quiet"]) })
        }
        return rounds
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
