/// A node of the catalog with its services and health checks.
struct CatalogNode: Codable, Sendable, Hashable {
    var id: String
    var name: String
    var address: String
    var datacenter: String
    var taggedAddresses: [String: String]
    var meta: [String: String]
    var services: [String: CatalogService]
    var checks: [String: HealthCheck]
    var createIndex: UInt64
    var modifyIndex: UInt64
}

struct CatalogService: Codable, Sendable, Hashable {
    var id: String
    var name: String
    var tags: [String]
    var address: String
    var port: Int
    var meta: [String: String]
    var createIndex: UInt64
    var modifyIndex: UInt64
    // Optional so that catalogs saved by earlier versions still load.
    var taggedAddresses: [String: TaggedAddress]?
    var enableTagOverride: Bool?

    /// A service address under a tag (`lan`, `wan`, …), as Consul's ServiceAddress.
    struct TaggedAddress: Codable, Sendable, Hashable {
        var address: String
        var port: Int
    }
}

struct HealthCheck: Codable, Sendable, Hashable {
    var checkID: String
    var name: String
    var status: String
    var notes: String
    var output: String
    var serviceID: String
    var serviceName: String
    var createIndex: UInt64
    var modifyIndex: UInt64
    /// A TTL check (registered through the agent API) turns critical when not updated within it.
    var ttl: String?
}

extension CatalogNode {
    /// Checks that apply to a service: the node's own checks and the service's.
    func checks(of serviceID: String) -> [HealthCheck] {
        checks.values.filter { $0.serviceID.isEmpty || $0.serviceID == serviceID }.sorted { $0.checkID < $1.checkID }
    }
}

extension CatalogNode {
    /// Whether two versions of a node (either absent) agree on the node's own fields, which is
    /// what moves the nodes table's index.
    static func sameNodeFields(_ old: CatalogNode?, _ new: CatalogNode?) -> Bool {
        switch (old, new) {
        case (nil, nil): true
        case (let old?, let new?):
            old.id == new.id && old.address == new.address && old.datacenter == new.datacenter && old.taggedAddresses == new.taggedAddresses
                && old.meta == new.meta
        default: false
        }
    }
}

/// A catalog record that carries Consul's create and modify indexes.
protocol RaftIndexed: Equatable {
    var createIndex: UInt64 { get set }
    var modifyIndex: UInt64 { get set }
}

extension RaftIndexed {
    /// Equal but for the indexes: re-registering it unchanged keeps its indexes (as Consul does).
    func sameContent(as other: Self) -> Bool {
        var other = other
        other.createIndex = createIndex
        other.modifyIndex = modifyIndex
        return self == other
    }
}

extension CatalogService: RaftIndexed {}
extension HealthCheck: RaftIndexed {}
