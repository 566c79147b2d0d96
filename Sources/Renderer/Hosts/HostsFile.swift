public import BundleFormat
public import KV

/// The hosts file the DNS backup serves: for every passing instance `IP name.service.DOMAIN`
/// and `IP tag.name.service.DOMAIN`, for every node `IP node.node.DOMAIN`; a service without an
/// address of its own uses its node's. Lines are sorted and unique, so the same catalog always
/// gives the same bytes. Names that are not DNS labels, and addresses that could not stand in a
/// hosts line, are left out (DNS could not serve them).
public enum HostsFile {
    public static func build(instances: [ServiceInstance], nodes: [CatalogNodeEntry], domain: String) -> String {
        HostsText.render(entities(instances: instances, nodes: nodes), domain: domain)
    }

    /// The catalog as hosts entities: one per service label and per node label, sorted by kind
    /// and name, addresses merged (the tags of every instance at an address together).
    public static func entities(instances: [ServiceInstance], nodes: [CatalogNodeEntry]) -> [HostsEntity] {
        var services: [String: [String: Set<String>]] = [:]
        for instance in instances where instance.passing && HostsText.isAddress(instance.address) {
            guard let service = HostsText.label(instance.serviceName) else { continue }
            services[service, default: [:]][instance.address, default: []].formUnion(instance.tags.compactMap(HostsText.label))
        }
        var nodeAddresses: [String: Set<String>] = [:]
        for node in nodes where HostsText.isAddress(node.address) {
            guard let name = HostsText.label(node.name) else { continue }
            nodeAddresses[name, default: []].insert(node.address)
        }
        let serviceEntities = services.map { name, addresses in
            HostsEntity(kind: .service, name: name, addresses: addresses.map { HostsAddress(address: $0.key, tags: $0.value.sorted()) }.sorted())
        }
        let nodeEntities = nodeAddresses.map { name, addresses in
            HostsEntity(kind: .node, name: name, addresses: addresses.map { HostsAddress(address: $0) }.sorted())
        }
        return (serviceEntities + nodeEntities).sorted { ($0.kind.rawValue, $0.name) < ($1.kind.rawValue, $1.name) }
    }
}
