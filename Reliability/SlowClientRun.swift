import Foundation
import TestFixtures

/// Slowloris against `serve`: thousands of connections that send half a request and stall.
/// `/health` must keep answering fast while they are open, and the request timeout must close
/// them. Reports /health's median and worst latency and how many stalled connections were cut.
struct SlowClientRun {
    static let goal = Duration.milliseconds(100)
    static let requestTimeout = Duration.seconds(5)

    let connections: Int
    let root: String

    func run() async throws -> ScenarioReport {
        try FileManager.default.createDirectory(atPath: root + "/logs", withIntermediateDirectories: true)
        let ports = ClosedPort.find(count: 2)
        let repository = try FixtureRepository(at: root + "/origin.git")
        try repository.commit("initial", changes: [.text("apps/web/port", "80")])
        let config = root + "/serve.yaml"
        try """
            kv: { address: "http://127.0.0.1:\(ports[0])" }
            state_dir: \(root)/state
            http: { listen: "127.0.0.1:\(ports[1])", request_timeout: \(Self.requestTimeout.components.seconds)s }
            ha: { enabled: false }
            repos:
              - name: config
                url: "\(repository.url)"
                poll_interval: 30s
                mappings: [{ source: apps, prefix: config/apps }]

            """.write(toFile: config, atomically: true, encoding: .utf8)
        let binary = Git2KVBinary.path
        let kvServer = SupervisedProcess(
            name: "kv-server", executable: binary, arguments: ["kv-server", "--listen", "127.0.0.1:\(ports[0])"],
            logPath: root + "/logs/kv-server.log", healthURL: "http://127.0.0.1:\(ports[0])/v1/status/leader")
        let serve = SupervisedProcess(
            name: "serve", executable: binary, arguments: ["serve", "--config", config], logPath: root + "/logs/serve.log",
            healthURL: "http://127.0.0.1:\(ports[1])/health")
        defer { [serve, kvServer].forEach { $0.kill9() } }
        for process in [kvServer, serve] {
            try process.start()
            guard await HTTPProbe.waitUntilHealthy(process.healthURL, timeout: .seconds(60)) else {
                throw ReliabilityFailure("\(process.name) did not answer at start (see \(root)/logs)")
            }
        }
        var violations: [String] = []
        let stalled = try (0..<connections).map { _ in try StalledConnection(port: ports[1]) }
        var latencies: [Duration] = []
        for _ in 0..<25 {
            let started = ContinuousClock.now
            let status = await HTTPProbe.status(healthURLOf(ports[1]), timeout: .seconds(5))
            latencies.append(started.duration(to: .now))
            if status != 200 { violations.append("/health answered \(status.map(String.init) ?? "nothing") with \(connections) stalled connections open") }
            try await Task.sleep(for: .milliseconds(40))
        }
        latencies.sort()
        let median = latencies[latencies.count / 2]
        if median >= Self.goal {
            violations.append("/health took \(RollingRestartRun.format(median)) (median) with \(connections) stalled connections (goal under \(Self.goal))")
        }
        try await Task.sleep(for: Self.requestTimeout + .seconds(3))
        let cut = stalled.filter { $0.isClosedByPeer() }.count
        if cut < connections {
            violations.append("\(connections - cut) of \(connections) stalled connections were still open \(Self.requestTimeout) after they stalled")
        }
        withExtendedLifetime(stalled) {}
        let lines = [
            "slow clients: \(connections) connections each sending half a request; /health median \(String(format: "%.1f ms", median.inSeconds * 1000)), worst \(String(format: "%.1f ms", latencies.last!.inSeconds * 1000)) (goal under \(Self.goal)); \(cut) of \(connections) cut by the request timeout (\(Self.requestTimeout))",
        ] + violations.prefix(10).map { "violation: \($0)" }
        return ScenarioReport(lines: lines, passed: violations.isEmpty)
    }

    private func healthURLOf(_ port: Int) -> String { "http://127.0.0.1:\(port)/health" }
}

/// A loopback connection that sent the start of a request and then nothing.
final class StalledConnection: @unchecked Sendable {
    private let descriptor: Int32

    init(port: Int) throws {
        guard let descriptor = LoopbackSocket.connect(port: port) else {
            throw ReliabilityFailure("cannot open a stalled connection: \(String(cString: strerror(errno)))")
        }
        self.descriptor = descriptor
        let start = Array("GET /health HTTP/1.1\r\nHost: git2kv\r\n".utf8)
        _ = write(descriptor, start, start.count)
    }

    deinit { close(descriptor) }

    /// True when the server closed it (a read returns end of file or a reset, without waiting).
    func isClosedByPeer() -> Bool {
        var buffer = [UInt8](repeating: 0, count: 256)
        let count = recv(descriptor, &buffer, buffer.count, Int32(MSG_DONTWAIT))
        return count == 0 || (count < 0 && errno == ECONNRESET)
    }
}
