import Foundation
import Testing
import TestFixtures

/// Consul keeps an index per catalog table: a watch of the service list sleeps through health
/// flips, and re-registering an unchanged service moves nothing. The hosts generator relies on it.
@Suite("catalog table indexes", .serialized)
struct CatalogTableIndexTests {
    private func index(_ url: String) throws -> UInt64 {
        try #require(Curl.run([url]).header("X-Consul-Index").flatMap { UInt64($0) })
    }

    @Test("nodes, services and checks move only when their own table changed")
    func perTable() throws {
        let (server, port) = try Git2KVBinary.startKVServer()
        defer { server.kill() }
        let base = "http://127.0.0.1:\(port)"
        func register(status: String, address: String = "10.0.0.1", serviceAddress: String = "") throws {
            let body = """
                {"Node": "n1", "Address": "\(address)", "Service": {"ID": "web-1", "Service": "web", "Address": "\(serviceAddress)", "Port": 80},
                 "Check": {"CheckID": "service:web-1", "Name": "alive", "Status": "\(status)", "ServiceID": "web-1"}}
                """
            #expect(try Curl.run(["-X", "PUT", "-d", body, "\(base)/v1/catalog/register"]).status == 200)
        }
        func indexes() throws -> (nodes: UInt64, services: UInt64, checks: UInt64) {
            (try index("\(base)/v1/catalog/nodes"), try index("\(base)/v1/catalog/services"), try index("\(base)/v1/health/state/critical"))
        }
        try register(status: "passing")
        let first = try indexes()

        try register(status: "passing")
        #expect(try indexes() == first, "an unchanged registration moves no table")

        try register(status: "critical")
        let flipped = try indexes()
        #expect(flipped.nodes == first.nodes && flipped.services == first.services)
        #expect(flipped.checks > first.checks)

        try register(status: "critical", serviceAddress: "10.9.9.9")
        let moved = try indexes()
        #expect(moved.services > flipped.services && moved.nodes == flipped.nodes && moved.checks == flipped.checks)

        try register(status: "critical", address: "10.0.0.2", serviceAddress: "10.9.9.9")
        let renumbered = try indexes()
        #expect(renumbered.nodes > moved.nodes && renumbered.services == moved.services)

        #expect(try Curl.run(["-X", "PUT", "-d", #"{"Node": "n1"}"#, "\(base)/v1/catalog/deregister"]).status == 200)
        let gone = try indexes()
        #expect(gone.nodes > renumbered.nodes && gone.services > renumbered.services && gone.checks > renumbered.checks)
    }
}
