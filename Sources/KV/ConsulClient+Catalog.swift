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

    public func services(options: KVReadOptions) async throws(KVError) -> KVRead<[String: [String]]> {
        let operation = "list catalog services"
        let reply = try await send(
            .GET, path: "/v1/catalog/services", query: readQuery(options), timeout: readTimeout(options), operation: operation)
        guard reply.status == 200 else { throw failure(reply, operation: operation) }
        let services = try decode([String: [String]?].self, reply, operation: operation).mapValues { $0 ?? [] }
        return KVRead(value: services, index: reply.index, knownLeader: reply.knownLeader, lastContactMilliseconds: reply.lastContact)
    }

    public func instances(of service: String, passingOnly: Bool, options: KVReadOptions) async throws(KVError) -> KVRead<[ServiceInstance]> {
        let operation = "read health of service \(service)"
        var query = readQuery(options)
        if passingOnly { query.append(("passing", nil)) }
        let reply = try await send(
            .GET, path: "/v1/health/service/" + Self.keyPath(service), query: query, timeout: readTimeout(options),
            operation: operation)
        guard reply.status == 200 else { throw failure(reply, operation: operation) }
        let entries = try decode([HealthEntry].self, reply, operation: operation)
        let instances = entries.map { entry in
            ServiceInstance(
                node: entry.node.node, nodeAddress: entry.node.address, serviceID: entry.service.id,
                serviceName: entry.service.service, serviceAddress: entry.service.address ?? "", port: entry.service.port ?? 0,
                tags: entry.service.tags ?? [], passing: (entry.checks ?? []).allSatisfy { $0.status == "passing" })
        }
        return KVRead(value: instances, index: reply.index, knownLeader: reply.knownLeader, lastContactMilliseconds: reply.lastContact)
    }
}
