import Foundation

extension ConsulClient: ServiceCatalog {
    private struct HealthEntry: Decodable {
        struct Node: Decodable {
            let node: String
            let address: String
            enum CodingKeys: String, CodingKey { case node = "Node", address = "Address" }
        }

        struct Service: Decodable {
            let id: String
            let service: String
            let tags: [String]?
            let address: String?
            let port: Int?
            enum CodingKeys: String, CodingKey { case id = "ID", service = "Service", tags = "Tags", address = "Address", port = "Port" }
        }

        struct Check: Decodable {
            let status: String
            enum CodingKeys: String, CodingKey { case status = "Status" }
        }

        let node: Node
        let service: Service
        let checks: [Check]?
        enum CodingKeys: String, CodingKey { case node = "Node", service = "Service", checks = "Checks" }
    }

    public func nodes(options: KVReadOptions) async throws(KVError) -> KVRead<[CatalogNodeEntry]> {
        let operation = "list catalog nodes"
        return try await blockingRead(path: "/v1/catalog/nodes", query: [], options: options, operation: operation, missing: nil) {
            reply throws(KVError) in
            try decode([HealthEntry.Node].self, reply, operation: operation).map { CatalogNodeEntry(name: $0.node, address: $0.address) }
        }
    }

    public func services(options: KVReadOptions) async throws(KVError) -> KVRead<[String: [String]]> {
        let operation = "list catalog services"
        return try await blockingRead(path: "/v1/catalog/services", query: [], options: options, operation: operation, missing: nil) {
            reply throws(KVError) in
            try decode([String: [String]?].self, reply, operation: operation).mapValues { $0 ?? [] }
        }
    }

    public func instances(of service: String, passingOnly: Bool, options: KVReadOptions) async throws(KVError) -> KVRead<[ServiceInstance]> {
        let operation = "read health of service \(service)"
        return try await blockingRead(
            path: "/v1/health/service/" + Self.keyPath(service), query: passingOnly ? [("passing", nil)] : [], options: options,
            operation: operation, missing: nil
        ) { reply throws(KVError) in
            try decode([HealthEntry].self, reply, operation: operation).map { entry in
                ServiceInstance(
                    node: entry.node.node, nodeAddress: entry.node.address, serviceID: entry.service.id,
                    serviceName: entry.service.service, serviceAddress: entry.service.address ?? "", port: entry.service.port ?? 0,
                    tags: entry.service.tags ?? [], passing: (entry.checks ?? []).allSatisfy { $0.status == "passing" })
            }
        }
    }

    public func checks(inState state: String, options: KVReadOptions) async throws(KVError) -> KVRead<[CatalogCheck]> {
        let operation = "list \(state) checks"
        return try await blockingRead(
            path: "/v1/health/state/" + Self.keyPath(state), query: [], options: options, operation: operation, missing: nil
        ) { reply throws(KVError) in
            try decode([StateCheck].self, reply, operation: operation).map {
                CatalogCheck(node: $0.node, checkID: $0.checkID, serviceID: $0.serviceID ?? "", serviceName: $0.serviceName ?? "")
            }
        }
    }

    private struct StateCheck: Decodable {
        let node: String
        let checkID: String
        let serviceID: String?
        let serviceName: String?
        enum CodingKeys: String, CodingKey { case node = "Node", checkID = "CheckID", serviceID = "ServiceID", serviceName = "ServiceName" }
    }
}
