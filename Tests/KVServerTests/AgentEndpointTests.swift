import Foundation
import Testing
import TestFixtures

/// The server's own node, as a Consul agent serves it: in the catalog and health endpoints, and
/// the node agent services and TTL checks register on. Against the kv-server binary, with curl.
@Suite("Agent endpoints and the server's own node", .serialized)
struct AgentEndpointTests {
    private func curl(_ arguments: [String]) throws -> CurlAnswer { try Curl.run(arguments) }

    private func checkStatus(_ id: String, base: String) throws -> String? {
        ((try curl(["\(base)/v1/agent/checks"]).json as? [String: [String: Any]])?[id]?["Status"]) as? String
    }

    @Test("agent self and members, the server's node with its consul service and serfHealth check, and health by node, state and service checks")
    func selfNode() throws {
        let (server, port) = try Git2KVBinary.startKVServer()
        defer { server.kill() }
        let base = "http://127.0.0.1:\(port)"
        let selfInfo = try curl(["\(base)/v1/agent/self"]).json as? [String: Any]
        #expect((selfInfo?["Config"] as? [String: Any])?["NodeName"] as? String == "git2kv-kv-server")
        #expect((selfInfo?["Config"] as? [String: Any])?["Datacenter"] as? String == "dc1")
        let members = try curl(["\(base)/v1/agent/members"]).json as? [[String: Any]]
        #expect(members?.count == 1 && members?.first?["Status"] as? Int == 1)

        let node = try curl(["\(base)/v1/catalog/node/git2kv-kv-server"]).json as? [String: Any]
        #expect((node?["Services"] as? [String: Any])?["consul"] != nil, "\(String(describing: node))")
        let nodeChecks = try curl(["\(base)/v1/health/node/git2kv-kv-server"]).json as? [[String: Any]]
        #expect(nodeChecks?.first?["CheckID"] as? String == "serfHealth" && nodeChecks?.first?["Status"] as? String == "passing")
        let passing = try curl(["\(base)/v1/health/state/passing"]).json as? [[String: Any]]
        #expect(passing?.contains { $0["CheckID"] as? String == "serfHealth" } == true)
        #expect(try curl(["\(base)/v1/health/state/critical"]).body == "[]")
        #expect(try curl(["\(base)/v1/health/state/sideways"]).status == 400)
        let consul = try curl(["\(base)/v1/health/service/consul"]).json as? [[String: Any]]
        #expect(consul?.count == 1)
        #expect(try curl(["\(base)/v1/status/peers"]).body == "[\"127.0.0.1:8300\"]")
    }

    @Test("agent services with TTL checks: registered critical, passed, expired back to critical by their TTL, updated, deregistered; other check kinds refused")
    func servicesAndTTLChecks() async throws {
        let (server, port) = try Git2KVBinary.startKVServer()
        defer { server.kill() }
        let base = "http://127.0.0.1:\(port)"
        let registration = #"{"Name":"web","ID":"web-1","Port":8080,"Tags":["blue"],"Check":{"TTL":"2s"}}"#
        #expect(try curl(["-X", "PUT", "-d", registration, "\(base)/v1/agent/service/register"]).status == 200)
        let services = try curl(["\(base)/v1/agent/services"]).json as? [String: [String: Any]]
        #expect(services?["web-1"]?["Service"] as? String == "web" && services?["web-1"]?["Port"] as? Int == 8080)
        #expect(try curl(["\(base)/v1/agent/service/web-1"]).status == 200)
        #expect(try checkStatus("service:web-1", base: base) == "critical", "a new TTL check starts critical")

        #expect(try curl(["-X", "PUT", "\(base)/v1/agent/check/pass/service:web-1?note=fine"]).status == 200)
        #expect(try checkStatus("service:web-1", base: base) == "passing")
        let serviceChecks = try curl(["\(base)/v1/health/checks/web"]).json as? [[String: Any]]
        #expect(serviceChecks?.first?["Output"] as? String == "fine")
        try await eventually("the TTL runs out without an update", timeout: .seconds(20)) {
            try checkStatus("service:web-1", base: base) == "critical"
        }

        #expect(try curl(["-X", "PUT", "-d", #"{"Status":"warning","Output":"slow"}"#, "\(base)/v1/agent/check/update/service:web-1"]).status == 200)
        #expect(try checkStatus("service:web-1", base: base) == "warning")
        #expect(try curl(["-X", "PUT", "-d", #"{"Status":"sideways"}"#, "\(base)/v1/agent/check/update/service:web-1"]).status == 400)
        #expect(try curl(["-X", "PUT", "\(base)/v1/agent/check/pass/nope"]).status == 404)
        #expect(try curl(["-X", "PUT", "-d", #"{"Name":"http","HTTP":"http://127.0.0.1:1/","Interval":"10s"}"#, "\(base)/v1/agent/check/register"]).status == 400)
        #expect(try curl(["-X", "PUT", "-d", #"{"Name":"disk","TTL":"1m"}"#, "\(base)/v1/agent/check/register"]).status == 200)
        #expect(try checkStatus("disk", base: base) == "critical")
        #expect(try curl(["-X", "PUT", "\(base)/v1/agent/check/deregister/disk"]).status == 200)
        #expect(try checkStatus("disk", base: base) == nil)

        #expect(try curl(["-X", "PUT", "\(base)/v1/agent/service/deregister/web-1"]).status == 200)
        #expect(try curl(["\(base)/v1/agent/services"]).body == "{}")
        #expect(try checkStatus("service:web-1", base: base) == nil, "the service's checks go with it")
    }
}
