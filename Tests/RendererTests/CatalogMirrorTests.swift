import KV
import Renderer
import Testing

@Suite("the hosts generator's catalog mirror")
struct CatalogMirrorTests {
    static func instance(_ service: String, _ id: String, node: String, passing: Bool = true) -> ServiceInstance {
        ServiceInstance(node: node, nodeAddress: "10.\(service.count).0.\(id.last ?? "0")", serviceID: id, serviceName: service, serviceAddress: "", port: 80, tags: [], passing: passing)
    }

    /// A mirror that listed web and db, read both and the nodes.
    static func caughtUp() -> CatalogMirror {
        var mirror = CatalogMirror()
        mirror.listed(services: ["web": [], "db": []], index: 10)
        mirror.listed(nodes: [CatalogNodeEntry(name: "n1", address: "10.0.0.1"), CatalogNodeEntry(name: "n2", address: "10.0.0.2")])
        mirror.read([instance("web", "web-1", node: "n1"), instance("web", "web-2", node: "n2")], of: "web")
        mirror.read([instance("db", "db-1", node: "n2")], of: "db")
        return mirror
    }

    @Test("the first listings make every service stale; once read, the mirror is complete")
    func firstListing() {
        var mirror = CatalogMirror()
        #expect(!mirror.isComplete)
        mirror.listed(services: ["web": [], "db": ["primary"]], index: 10)
        #expect(mirror.stale == ["web", "db"])
        mirror.listed(nodes: [])
        #expect(!mirror.isComplete)
        #expect(Self.caughtUp().isComplete)
    }

    @Test("a check entering or leaving critical makes only its service stale")
    func healthFlip() {
        var mirror = Self.caughtUp()
        let check = CatalogCheck(node: "n2", checkID: "service:web-2", serviceID: "web-2", serviceName: "web")
        mirror.listed(failing: [check], inState: "critical")
        #expect(mirror.stale == ["web"])
        mirror.read([Self.instance("web", "web-1", node: "n1"), Self.instance("web", "web-2", node: "n2", passing: false)], of: "web")
        #expect(mirror.stale.isEmpty)
        let web = mirror.entities().first { $0.kind == .service && $0.name == "web" }
        #expect(web?.addresses.map(\.address) == ["10.3.0.1"], "the failing instance is out of the hosts file")
        mirror.listed(failing: [check], inState: "critical")
        #expect(mirror.stale.isEmpty, "the same failing checks again change nothing")
        mirror.listed(failing: [], inState: "critical")
        #expect(mirror.stale == ["web"])
    }

    @Test("a node's own check makes every service with an instance on that node stale")
    func nodeCheck() {
        var mirror = Self.caughtUp()
        mirror.listed(failing: [CatalogCheck(node: "n2", checkID: "serfHealth", serviceID: "", serviceName: "")], inState: "critical")
        #expect(mirror.stale == ["web", "db"])
        var other = Self.caughtUp()
        other.listed(failing: [CatalogCheck(node: "n1", checkID: "serfHealth", serviceID: "", serviceName: "")], inState: "warning")
        #expect(other.stale == ["web"])
    }

    @Test("a service list that moved re-reads every service (Consul does not say which changed) and forgets removed ones")
    func serviceListMoved() {
        var mirror = Self.caughtUp()
        mirror.listed(services: ["web": []], index: 11)
        #expect(mirror.stale == ["web"])
        #expect(mirror.instances["db"] == nil)
        mirror.read([Self.instance("db", "db-1", node: "n2")], of: "db")
        #expect(mirror.instances["db"] == nil, "a read of a service no longer listed is dropped")
    }

    @Test("the refresh's listing re-reads services only when the service table moved without the watch saying so")
    func relisted() {
        var mirror = Self.caughtUp()
        mirror.relisted(services: ["web": [], "db": []], index: 10)
        #expect(mirror.stale.isEmpty, "the same index and list: nothing to read")
        mirror.relisted(services: ["web": [], "db": []], index: 12)
        #expect(mirror.stale == ["web", "db"])
        var reset = Self.caughtUp()
        reset.relisted(services: ["web": [], "db": []], index: 3)
        #expect(reset.stale == ["web", "db"], "a store that came back with lower indexes is read again")
    }
}
