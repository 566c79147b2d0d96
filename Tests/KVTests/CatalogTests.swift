import Foundation
import KV
import KVServer
import Testing

@Suite("Service catalog and health")
struct CatalogTests {
    static func register(_ kv: ServerAndClient, node: String, address: String, service: String, id: String, port: Int, status: String) async throws {
        let body = """
            {"Node": "\(node)", "Address": "\(address)",
             "Service": {"ID": "\(id)", "Service": "\(service)", "Tags": ["v1"], "Port": \(port)},
             "Check": {"CheckID": "service:\(id)", "Name": "alive", "Status": "\(status)", "ServiceID": "\(id)"}}
            """
        let answer = try await kv.request(.PUT, "/v1/catalog/register", body: body)
        #expect(answer.status == 200, "\(answer.body)")
    }

    @Test("registered services are listed; health with passing leaves failing instances out")
    func servicesAndHealth() async throws {
        let kv = try await ServerAndClient.start()
        try await Self.register(kv, node: "web-1", address: "10.0.0.1", service: "web", id: "web-a", port: 80, status: "passing")
        try await Self.register(kv, node: "web-2", address: "10.0.0.2", service: "web", id: "web-b", port: 80, status: "critical")
        try await Self.register(kv, node: "db-1", address: "10.0.0.3", service: "db", id: "db", port: 5432, status: "passing")

        let services = try await kv.client.services(options: .default)
        #expect(services.value == ["consul": [], "db": ["v1"], "web": ["v1"]], "the server's own node carries Consul's consul service")
        #expect(services.index > 0)

        let all = try await kv.client.instances(of: "web", passingOnly: false, options: .default).value
        #expect(all.map(\.node) == ["web-1", "web-2"])
        #expect(all.map(\.passing) == [true, false])
        #expect(all.first?.address == "10.0.0.1")
        let healthy = try await kv.client.instances(of: "web", passingOnly: true, options: .default).value
        #expect(healthy.map(\.node) == ["web-1"])

        let nodes = try await kv.json(.GET, "/v1/catalog/nodes") as? [[String: Any]]
        #expect(nodes?.compactMap { $0["Node"] as? String } == ["db-1", "git2kv-kv-server", "web-1", "web-2"])
        let instances = try await kv.json(.GET, "/v1/catalog/service/web?tag=v1") as? [[String: Any]]
        #expect(instances?.compactMap { $0["ServiceID"] as? String } == ["web-a", "web-b"])
        await kv.stop()
    }

    @Test("a blocking catalog query wakes on register and deregister")
    func blockingCatalog() async throws {
        let kv = try await ServerAndClient.start()
        try await Self.register(kv, node: "web-1", address: "10.0.0.1", service: "web", id: "web-a", port: 80, status: "passing")
        let first = try await kv.client.instances(of: "web", passingOnly: true, options: .default)
        let waiting = Task {
            try await kv.client.instances(of: "web", passingOnly: true, options: KVReadOptions(waitIndex: first.index, waitTime: .seconds(10)))
        }
        try await Task.sleep(for: .milliseconds(100))
        try await Self.register(kv, node: "web-2", address: "10.0.0.2", service: "web", id: "web-b", port: 80, status: "passing")
        let second = try await waiting.value
        #expect(second.value.count == 2)
        #expect(second.index > first.index)

        let answer = try await kv.request(.PUT, "/v1/catalog/deregister", body: #"{"Node": "web-1"}"#)
        #expect(answer.status == 200)
        #expect(try await kv.client.instances(of: "web", passingOnly: false, options: .default).value.map(\.node) == ["web-2"])
        await kv.stop()
    }

    @Test("malformed registrations are refused with 400 and change nothing")
    func malformedRegistration() async throws {
        let kv = try await ServerAndClient.start()
        #expect(try await kv.request(.PUT, "/v1/catalog/register", body: "{not json").status == 400)
        #expect(try await kv.request(.PUT, "/v1/catalog/register", body: #"{"Address": "10.0.0.1"}"#).status == 400)
        #expect(try await kv.request(.PUT, "/v1/catalog/register", body: #"{"Node": "n", "Address": "a", "Check": {"Name": "c", "Status": "sideways"}}"#).status == 400)
        #expect(try await kv.client.services(options: .default).value == ["consul": []], "only the server's own service")
        await kv.stop()
    }
}
