import Foundation

/// A catalog registration as Consul's `PUT /v1/catalog/register` takes it.
struct CatalogRegistration: Sendable {
    struct Service: Sendable {
        var id: String
        var name: String
        var tags: [String]
        var address: String
        var port: Int
        var meta: [String: String]
        var taggedAddresses: [String: CatalogService.TaggedAddress]? = nil
        var enableTagOverride: Bool? = nil
    }

    struct Check: Sendable {
        var checkID: String
        var name: String
        var status: String
        var notes: String
        var output: String
        var serviceID: String
        var ttl: String?
    }

    var node: String
    var id: String?
    var address: String
    var taggedAddresses: [String: String]
    var meta: [String: String]
    var service: Service?
    var checks: [Check]
}

/// Which of the catalog's tables a read depends on, for the index it reports.
enum CatalogTable: Sendable {
    /// Several tables (a service's instances with their nodes and checks).
    case all
    case nodes
    case services
    case checks
}

extension ServerStore {
    var catalogIndex: UInt64 { state.catalogIndex }

    /// The index a read of `table` reports (Consul's per-table indexes).
    func index(of table: CatalogTable) -> UInt64 {
        switch table {
        case .all: state.catalogIndex
        case .nodes: state.nodesIndex
        case .services: state.servicesIndex
        case .checks: state.checksIndex
        }
    }

    var nodes: [CatalogNode] { state.catalog.values.sorted { $0.name < $1.name } }

    /// The nodes with an instance of `service`, sorted by name.
    func nodes(providing service: String) -> [CatalogNode] {
        if serviceProviders?.catalogIndex != state.catalogIndex {
            var providers: [String: [String]] = [:]
            for node in state.catalog.values {
                for name in Set(node.services.values.map(\.name)) { providers[name, default: []].append(node.name) }
            }
            serviceProviders = (state.catalogIndex, providers.mapValues { $0.sorted() })
        }
        return (serviceProviders?.nodes[service] ?? []).compactMap { state.catalog[$0] }
    }

    func register(_ registration: CatalogRegistration, datacenter: String) async throws(StorageError) {
        let index = state.index + 1
        var node = state.catalog[registration.node] ?? CatalogNode(
            id: registration.id ?? UUID().uuidString.lowercased(), name: registration.node, address: registration.address,
            datacenter: datacenter, taggedAddresses: [:], meta: [:], services: [:], checks: [:], createIndex: index,
            modifyIndex: index)
        let before = node
        node.address = registration.address
        if !registration.taggedAddresses.isEmpty { node.taggedAddresses = registration.taggedAddresses }
        if !registration.meta.isEmpty { node.meta = registration.meta }
        if !CatalogNode.sameNodeFields(before, node) || state.catalog[registration.node] == nil { node.modifyIndex = index }
        if let service = registration.service {
            let existing = node.services[service.id]
            let registered = CatalogService(
                id: service.id, name: service.name, tags: service.tags, address: service.address, port: service.port,
                meta: service.meta, createIndex: existing?.createIndex ?? index, modifyIndex: index,
                taggedAddresses: service.taggedAddresses, enableTagOverride: service.enableTagOverride)
            if let existing, existing.sameContent(as: registered) {} else { node.services[service.id] = registered }
        }
        for check in registration.checks {
            let existing = node.checks[check.checkID]
            let registered = HealthCheck(
                checkID: check.checkID, name: check.name, status: check.status, notes: check.notes, output: check.output,
                serviceID: check.serviceID, serviceName: node.services[check.serviceID]?.name ?? "",
                createIndex: existing?.createIndex ?? index, modifyIndex: index, ttl: check.ttl)
            if let existing, existing.sameContent(as: registered) {} else { node.checks[check.checkID] = registered }
        }
        try await commit([.node(node.name, node)])
    }

    /// Removes a service, a check, or (with neither) the whole node.
    func deregister(node name: String, serviceID: String?, checkID: String?) async throws(StorageError) {
        guard var node = state.catalog[name] else { return }
        if serviceID == nil, checkID == nil {
            try await commit([.node(name, nil)])
            return
        }
        if let serviceID {
            node.services[serviceID] = nil
            node.checks = node.checks.filter { $0.value.serviceID != serviceID }
        }
        if let checkID { node.checks[checkID] = nil }
        node.modifyIndex = state.index + 1
        try await commit([.node(name, node)])
    }
}
