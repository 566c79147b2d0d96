public import KV

/// The hosts file the DNS backup serves: for every passing instance `IP name.service.DOMAIN`
/// and `IP tag.name.service.DOMAIN`, for every node `IP node.node.DOMAIN`; a service without an
/// address of its own uses its node's. Lines are sorted and unique, so the same catalog always
/// gives the same bytes. Names that are not DNS labels are left out (DNS could not serve them).
public enum HostsFile {
    public static func build(instances: [ServiceInstance], nodes: [CatalogNodeEntry], domain: String) -> String {
        var entries: Set<Entry> = []
        for instance in instances where instance.passing && !instance.address.isEmpty {
            guard let service = label(instance.serviceName) else { continue }
            entries.insert(Entry(name: "\(service).service.\(domain)", address: instance.address))
            for tag in instance.tags {
                guard let tag = label(tag) else { continue }
                entries.insert(Entry(name: "\(tag).\(service).service.\(domain)", address: instance.address))
            }
        }
        for node in nodes where !node.address.isEmpty {
            guard let name = label(node.name) else { continue }
            entries.insert(Entry(name: "\(name).node.\(domain)", address: node.address))
        }
        let sorted = entries.sorted { ($0.name, $0.address) < ($1.name, $1.address) }
        return sorted.map { "\($0.address) \($0.name)\n" }.joined()
    }

    private struct Entry: Hashable {
        var name: String
        var address: String
    }

    /// The name as a lower-case DNS label, or nil when it cannot be one.
    static func label(_ name: String) -> String? {
        let lowered = name.lowercased()
        guard (1...63).contains(lowered.utf8.count), !lowered.hasPrefix("-"), !lowered.hasSuffix("-"),
            lowered.utf8.allSatisfy({ (0x61...0x7A).contains($0) || (0x30...0x39).contains($0) || $0 == 0x2D })
        else { return nil }
        return lowered
    }
}
