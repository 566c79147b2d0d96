import BenchmarkSupport
import AsyncHTTPClient
import Foundation
import KV
import NIOCore
import TestFixtures

/// A single-member etcd (Debian's etcd-server) on free loopback ports, the peer of the KV benchmarks.
final class EtcdServer: @unchecked Sendable {
    let clientURL: String
    private let process: Process
    private let directory: TemporaryDirectory

    init() throws {
        directory = try TemporaryDirectory(prefix: "git2kv-etcd")
        let clientPort = ClosedPort.find()
        let peerPort = ClosedPort.find()
        clientURL = "http://127.0.0.1:\(clientPort)"
        let peerURL = "http://127.0.0.1:\(peerPort)"
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/etcd")
        process.arguments = [
            "--name", "bench", "--data-dir", directory.appending("data"),
            "--listen-client-urls", clientURL, "--advertise-client-urls", clientURL,
            "--listen-peer-urls", peerURL, "--initial-advertise-peer-urls", peerURL,
            "--initial-cluster", "bench=\(peerURL)", "--log-level", "error",
        ]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
    }

    /// Waits until etcd answers a put.
    func waitUntilReady() async throws {
        for _ in 0..<100 {
            if (try? await put("ready", value: "1")) != nil { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw BenchmarkFailure("etcd did not start at \(clientURL)")
    }

    func put(_ key: String, value: String) async throws {
        let body = #"{"key":"\#(Self.base64(key))","value":"\#(Self.base64(value))"}"#
        var request = HTTPClientRequest(url: clientURL + "/v3/kv/put")
        request.method = .POST
        request.body = .bytes(ByteBuffer(string: body))
        let response = try await ConsulClient.sharedHTTPClient.execute(request, timeout: .seconds(10))
        _ = try await response.body.collect(upTo: 1 << 20)
        guard response.status == .ok else { throw BenchmarkFailure("etcd put answered \(response.status)") }
    }

    /// Opens a watch stream on `key`; `created` runs once etcd confirmed it, and the call returns
    /// when the first change arrives.
    func watchForOneChange(_ key: String, created: @Sendable () -> Void) async throws {
        var request = HTTPClientRequest(url: clientURL + "/v3/watch")
        request.method = .POST
        request.body = .bytes(ByteBuffer(string: #"{"create_request":{"key":"\#(Self.base64(key))"}}"#))
        let response = try await ConsulClient.sharedHTTPClient.execute(request, timeout: .seconds(120))
        var seen = ""
        var confirmed = false
        for try await buffer in response.body {
            seen += String(buffer: buffer)
            if !confirmed, seen.contains("\"created\":true") {
                confirmed = true
                created()
            }
            if seen.contains("\"events\"") { return }
        }
        throw BenchmarkFailure("etcd closed a watch stream without an event")
    }

    static func base64(_ text: String) -> String { Data(text.utf8).base64EncodedString() }

    func stop() {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            var status: Int32 = 0
            _ = waitpid(process.processIdentifier, &status, 0)
        }
        directory.remove()
    }
}
