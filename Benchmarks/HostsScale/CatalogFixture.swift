import AsyncHTTPClient
import BenchmarkSupport
import Foundation
import KV
import NIOCore

/// A catalog of `services` services with `instancesPerService` instances each, spread over
/// `nodes` nodes (instance i of the fleet on node i mod nodes), each instance with one passing
/// check, registered into a kv-server through Consul's catalog API.
struct CatalogFixture: Sendable {
    let services: Int
    let instancesPerService: Int
    let nodes: Int
    let address: String

    var instances: Int { services * instancesPerService }

    static func nodeAddress(_ node: Int) -> String { "10.\(node / 65_536).\(node / 256 % 256).\(node % 256)" }

    func node(ofInstance instance: Int) -> Int { instance % nodes }

    /// The `ADDRESS svc-S.service.consul` line of an instance, present while its check passes.
    func line(ofInstance instance: Int, serviceAddress: String? = nil) -> String {
        "\(serviceAddress ?? Self.nodeAddress(node(ofInstance: instance))) svc-\(instance / instancesPerService).service.consul"
    }

    func registerAll() async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            var next = 0
            func startNext() {
                guard next < instances else { return }
                let instance = next
                next += 1
                group.addTask { try await register(instance: instance, status: "passing") }
            }
            for _ in 0..<32 { startNext() }
            while try await group.next() != nil { startNext() }
        }
    }

    /// Registers instance `instance` again: its check in `status`, its own address if given.
    func register(instance: Int, status: String, serviceAddress: String = "") async throws {
        let node = node(ofInstance: instance)
        let service = instance / instancesPerService
        let id = "svc-\(service)-\(instance % instancesPerService)"
        let tags = instance % instancesPerService == 0 ? #"["primary"]"# : "[]"
        let body = """
            {"Node":"node-\(node)","Address":"\(Self.nodeAddress(node))",\
            "Service":{"ID":"\(id)","Service":"svc-\(service)","Tags":\(tags),"Address":"\(serviceAddress)","Port":8080},\
            "Check":{"CheckID":"service:\(id)","Name":"alive","Status":"\(status)","ServiceID":"\(id)"}}
            """
        var request = HTTPClientRequest(url: address + "/v1/catalog/register")
        request.method = .PUT
        request.body = .bytes(ByteBuffer(string: body))
        let response = try await ConsulClient.sharedHTTPClient.execute(request, timeout: .seconds(30))
        _ = try await response.body.collect(upTo: 1 << 20)
        guard response.status.code == 200 else { throw BenchmarkFailure("registering \(id) answered \(response.status.code)") }
    }
}
