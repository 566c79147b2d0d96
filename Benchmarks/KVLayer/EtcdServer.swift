import BenchmarkSupport
import AsyncHTTPClient
import Foundation
import KV
import NIOCore
import TestFixtures

/// A single-member etcd (Debian's etcd-server) on free loopback ports with its data on disk, as
/// kv-server's is in these benchmarks: the peer of the KV benchmarks, spoken to directly.
final class EtcdServer: Sendable {
    let clientURL: String
    private let cluster: EtcdCluster

    init() throws {
        cluster = try EtcdCluster(dataParent: FileManager.default.temporaryDirectory.path)
        clientURL = cluster.endpoints[0]
    }

    func waitUntilReady() async throws {
        try await cluster.waitUntilReady()
    }

    func put(_ key: String, value: String) async throws {
        let body = #"{"key":"\#(EtcdCluster.base64(key))","value":"\#(EtcdCluster.base64(value))"}"#
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
        request.body = .bytes(ByteBuffer(string: #"{"create_request":{"key":"\#(EtcdCluster.base64(key))"}}"#))
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

    func stop() {
        cluster.stop()
    }
}
