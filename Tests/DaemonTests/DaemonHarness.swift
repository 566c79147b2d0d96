import AsyncHTTPClient
import Daemon
import Foundation
import KV
import KVServer
import Logging
import NIOCore
import NIOHTTP1
import Pipeline
import TestFixtures
import Testing

/// A fixture repository, an in-process kv-server and a daemon serving on a free port, with a
/// webhook of the given provider and secret.
struct DaemonHarness {
    let directory: TemporaryDirectory
    let repository: FixtureRepository
    let server: RunningKVServer
    let kv: ConsulClient
    let daemon: SyncDaemon
    let port: Int
    let secret: String
    private let task: Task<Void, any Error>

    static func start(
        provider: String = "github", secret: String = "s3cret-webhook", pollInterval: String = "1h",
        topLevel: [String] = ["ha: { enabled: false }"], initialFiles: [FixtureChange]? = nil
    ) async throws -> DaemonHarness {
        let directory = try TemporaryDirectory(prefix: "git2kv-daemon")
        let repository = try FixtureRepository(at: directory.appending("origin.git"))
        try repository.commit("initial", changes: initialFiles ?? [.text("apps/web/app.json", #"{"port": 80}"#)])
        let server = try await RunningKVServer.start()
        let secretFile = directory.appending("webhook-secret")
        try Data((secret + "\n").utf8).write(to: URL(fileURLWithPath: secretFile))
        let text = DaemonConfigText.yaml(
            kvAddress: server.address, stateDirectory: directory.appending("state"), repoURL: repository.url,
            mappings: "[{source: apps, prefix: config/apps}]",
            repoSettings: ["poll_interval: \(pollInterval)", "webhook: { provider: \(provider), secret_file: \(secretFile) }"],
            topLevel: ["http: { listen: \"127.0.0.1:0\", max_webhook_bytes: 64KiB }"] + topLevel)
        let config = try DaemonConfig.parse(text, file: "daemon.yaml")
        var logger = Logger(label: "test.daemon")
        logger.logLevel = .critical
        let daemonServer = try DaemonServer(config: config, logger: logger)
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let task = Task {
            defer { continuation.finish() }
            try await daemonServer.run(handleSignals: false) { continuation.yield($0) }
        }
        var bound: Int?
        for await port in ports {
            bound = port
            break
        }
        guard let bound else {
            _ = try await task.value
            throw HarnessError("the daemon stopped before it listened")
        }
        return DaemonHarness(
            directory: directory, repository: repository, server: server, kv: ConsulClient(.init(address: server.address)),
            daemon: daemonServer.daemon, port: bound, secret: secret, task: task)
    }

    func stop() async {
        task.cancel()
        _ = try? await task.value
        await server.stop()
        directory.remove()
    }

    struct Reply {
        let status: Int
        let body: String
    }

    func request(_ method: HTTPMethod, _ path: String, headers: [(String, String)] = [], body: [UInt8]? = nil) async throws -> Reply {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)")
        request.method = method
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body { request.body = .bytes(ByteBuffer(bytes: body)) }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        let bytes = try await response.body.collect(upTo: 16 * 1024 * 1024)
        return Reply(status: Int(response.status.code), body: String(buffer: bytes))
    }

    func webhook(_ body: [UInt8], headers: [(String, String)], repo: String = "config") async throws -> Reply {
        try await request(.POST, "/webhooks/\(repo)", headers: headers, body: body)
    }

    /// The commit the state key names (nil before the first sync).
    func liveCommit() async throws -> String? {
        guard let entry = try await kv.get("config/apps/.git2kv/state").value else { return nil }
        return try SyncState.decode(entry.value).commit.id
    }

    /// Waits until KV holds `commit` and the sync that wrote it has ended (so pass counts are
    /// settled), failing after `timeout`.
    func waitForLive(_ commit: String, timeout: Duration = .seconds(30)) async throws {
        try await eventually("KV to reach \(commit) and the daemon to be idle", timeout: timeout) {
            let live = try await liveCommit()
            let idle = await daemon.isIdle(repo: "config")
            return live == commit && idle
        }
    }
}

struct HarnessError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
