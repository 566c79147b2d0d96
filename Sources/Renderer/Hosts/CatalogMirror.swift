public import BundleFormat
public import KV

/// What the hosts generator knows of the catalog between events: the service list, every
/// instance of every service (passing or not), the failing checks and the nodes. Each listing
/// that moved says which services must be read again, and only those are read.
///
/// Consul's listings say exactly which service a health change concerns (a check entering or
/// leaving `critical` or `warning` names its service, or its node). They do not say which
/// service's instances changed when the service table moves (an instance registered,
/// deregistered or re-addressed): then every service is read again.
public struct CatalogMirror: Sendable {
    public private(set) var services: [String: [String]]?
    /// The service table's index when `services` was listed.
    public private(set) var servicesIndex: UInt64?
    public private(set) var instances: [String: [ServiceInstance]] = [:]
    public private(set) var nodes: [CatalogNodeEntry]?
    private var failing: [String: Set<CatalogCheck>] = [:]
    /// Services to read before the hosts file is built again.
    public private(set) var stale: Set<String> = []

    public init() {}

    /// Whether every listing arrived once and no service waits to be read.
    public var isComplete: Bool { services != nil && nodes != nil && stale.isEmpty }

    /// A service list whose index moved: every listed service is read again, and the instances
    /// of services no longer listed are forgotten.
    public mutating func listed(services new: [String: [String]], index: UInt64) {
        for name in (services ?? [:]).keys where new[name] == nil { instances[name] = nil }
        stale = stale.filter { new[$0] != nil }.union(new.keys)
        services = new
        servicesIndex = index
    }

    /// The service list read again as a safety net: only an index other than the one last
    /// listed (a change the watch missed, or a store that came back) makes services stale.
    public mutating func relisted(services new: [String: [String]], index: UInt64) {
        guard index != servicesIndex || services != new else { return }
        listed(services: new, index: index)
    }

    /// The checks in `state`: the services of those that entered or left it are read again (a
    /// node's own check: every service with an instance on that node).
    public mutating func listed(failing checks: [CatalogCheck], inState state: String) {
        let new = Set(checks)
        let moved = new.symmetricDifference(failing[state] ?? [])
        failing[state] = new
        for check in moved {
            if check.serviceName.isEmpty {
                stale.formUnion(instances.filter { $0.value.contains { $0.node == check.node } }.keys)
            } else if services?[check.serviceName] != nil {
                stale.insert(check.serviceName)
            }
        }
    }

    public mutating func listed(nodes new: [CatalogNodeEntry]) {
        nodes = new
    }

    /// A service's instances as just read.
    public mutating func read(_ list: [ServiceInstance], of service: String) {
        stale.remove(service)
        guard services?[service] != nil else { return }
        instances[service] = list
    }

    /// The hosts entities of what the mirror holds: passing instances and every node.
    public func entities() -> [HostsEntity] {
        HostsFile.entities(instances: instances.values.flatMap { $0 }, nodes: nodes ?? [])
    }
}
