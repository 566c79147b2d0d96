/// One instance of a service: where it runs and whether its checks pass.
public struct ServiceInstance: Sendable, Hashable {
    public var node: String
    public var nodeAddress: String
    public var serviceID: String
    public var serviceName: String
    /// The service's own address; empty means the node's.
    public var serviceAddress: String
    public var port: Int
    public var tags: [String]
    /// True when every check of the node and of the service is passing.
    public var passing: Bool

    public init(
        node: String, nodeAddress: String, serviceID: String, serviceName: String, serviceAddress: String, port: Int,
        tags: [String], passing: Bool
    ) {
        self.node = node
        self.nodeAddress = nodeAddress
        self.serviceID = serviceID
        self.serviceName = serviceName
        self.serviceAddress = serviceAddress
        self.port = port
        self.tags = tags
        self.passing = passing
    }

    /// The address to reach the service at.
    public var address: String { serviceAddress.isEmpty ? nodeAddress : serviceAddress }
}

/// A node of the catalog.
public struct CatalogNodeEntry: Sendable, Hashable {
    public var name: String
    public var address: String

    public init(name: String, address: String) {
        self.name = name
        self.address = address
    }
}

/// Reads of the service catalog (Consul's), as blocking queries.
public protocol ServiceCatalog: Sendable {
    /// Every node with its address.
    func nodes(options: KVReadOptions) async throws(KVError) -> KVRead<[CatalogNodeEntry]>
    /// Service names with their tags.
    func services(options: KVReadOptions) async throws(KVError) -> KVRead<[String: [String]]>
    /// Instances of a service; with `passingOnly`, only those whose checks all pass.
    func instances(of service: String, passingOnly: Bool, options: KVReadOptions) async throws(KVError) -> KVRead<[ServiceInstance]>
    /// The checks in `state` (`critical`, `warning`); as a blocking query it wakes when a check
    /// enters or leaves that state, and its answer stays as small as the failing checks.
    func checks(inState state: String, options: KVReadOptions) async throws(KVError) -> KVRead<[CatalogCheck]>
}

/// A health check as the state listings give it: which node and (unless a node check) which
/// service instance it belongs to.
public struct CatalogCheck: Sendable, Hashable {
    public var node: String
    public var checkID: String
    /// Empty for a check of the node itself (it applies to every instance on the node).
    public var serviceID: String
    public var serviceName: String

    public init(node: String, checkID: String, serviceID: String, serviceName: String) {
        self.node = node
        self.checkID = checkID
        self.serviceID = serviceID
        self.serviceName = serviceName
    }
}
