import Hummingbird

/// `/v1/catalog/` (register, deregister, nodes, node/<n>, services, service/<s>) and
/// `/v1/health/service/<s>` with `?passing` and `?tag=`. Reads are blocking queries.
struct CatalogEndpoint {
    let call: ConsulCall

    private struct RegisterRequest: Decodable {
        struct Service: Decodable {
            var id: String?
            var service: String?
            var tags: [String]?
            var address: String?
            var port: Int?
            var meta: [String: String]?
        }

        struct Check: Decodable {
            var checkid: String?
            var name: String?
            var status: String?
            var notes: String?
            var output: String?
            var serviceid: String?
        }

        var node: String?
        var id: String?
        var datacenter: String?
        var address: String?
        var taggedaddresses: [String: String]?
        var nodemeta: [String: String]?
        var service: Service?
        var check: Check?
        var checks: [Check]?
    }

    private struct DeregisterRequest: Decodable {
        var node: String?
        var datacenter: String?
        var serviceid: String?
        var checkid: String?
    }

    static let datacenter = "dc1"
    static let checkStatuses: Set<String> = ["passing", "warning", "critical", "maintenance"]

    func respond(_ rest: String) async throws(StorageError) -> Response {
        switch (call.method, rest) {
        case (.put, "register"): return try await register()
        case (.put, "deregister"): return try await deregister()
        case (.get, "datacenters"): return ConsulResponse.json([Self.datacenter])
        case (.get, "nodes"):
            return await read(.nodes) { nodes in nodes.map(CatalogJSON.Node.init) }
        case (.get, "services"):
            return await read(.services) { nodes in
                var services: [String: Set<String>] = [:]
                for node in nodes {
                    for service in node.services.values where call.authorizer.allows(.service, service.name, .read) {
                        services[service.name, default: []].formUnion(service.tags)
                    }
                }
                return services.mapValues { $0.sorted() }
            }
        case (.get, let path) where path.hasPrefix("service/"):
            let name = String(path.dropFirst("service/".count))
            return await read(providing: name) { nodes in
                instances(of: name, in: nodes).map { CatalogJSON.ServiceInstance(node: $0.0, service: $0.1) }
            }
        case (.get, let path) where path.hasPrefix("node/"):
            let name = String(path.dropFirst("node/".count))
            return await call.blocking(topic: .catalog) {
                let index = await call.store.catalogIndex
                guard let node = await call.store.nodes.first(where: { $0.name == name }),
                    call.authorizer.allows(.node, name, .read)
                else { return (ConsulResponse.text(.notFound, "", index: index), index) }
                return (ConsulResponse.json(CatalogJSON.NodeServices(node: node), index: index), index)
            }
        default:
            return ConsulResponse.text(.notFound, "Not found: \(call.method) /v1/catalog/\(rest)")
        }
    }

    /// `/v1/health/`: service/<s> (instances with their checks, `?passing`, `?tag=`), node/<n>,
    /// checks/<service> and state/<state> (`any` or a status).
    func health(_ rest: String) async -> Response {
        let parts = rest.split(separator: "/", maxSplits: 1).map(String.init)
        guard call.method == .get, parts.count == 2 else {
            if call.method == .get, parts.count == 1, ["service", "node", "checks", "state"].contains(parts[0]) {
                return ConsulResponse.text(.badRequest, "Missing \(parts[0] == "state" ? "check state" : parts[0] == "node" ? "node name" : "service name")")
            }
            return ConsulResponse.text(.notFound, "Not found: \(call.method) /v1/health/\(rest)")
        }
        let name = parts[1]
        switch parts[0] {
        case "service":
            let passingOnly = call.query.has("passing") && call.query["passing"] != "false"
            return await read(providing: name) { nodes in
                instances(of: name, in: nodes)
                    .filter { node, service in !passingOnly || node.checks(of: service.id).allSatisfy { $0.status == "passing" } }
                    .map { CatalogJSON.HealthEntry(node: $0.0, service: $0.1) }
            }
        case "node":
            return await read { nodes in
                nodes.filter { $0.name == name }.flatMap { node in self.readableChecks(of: node) }
            }
        case "checks":
            return await read(.checks, providing: name) { nodes in
                instances(of: name, in: nodes).flatMap { node, service in
                    node.checks.values.filter { $0.serviceID == service.id }.sorted { $0.checkID < $1.checkID }.map { CatalogJSON.Check(node: node.name, check: $0) }
                }
            }
        case "state":
            guard name == "any" || Self.checkStatuses.contains(name) else { return ConsulResponse.text(.badRequest, "Invalid state: \(name)") }
            return await read(.checks) { nodes in
                nodes.flatMap { node in self.readableChecks(of: node).filter { name == "any" || $0.check.status == name } }
            }
        default:
            return ConsulResponse.text(.notFound, "Not found: \(call.method) /v1/health/\(rest)")
        }
    }

    /// A node's checks the token may see: node checks, and service checks of readable services.
    private func readableChecks(of node: CatalogNode) -> [CatalogJSON.Check] {
        node.checks.values
            .filter { $0.serviceName.isEmpty || call.authorizer.allows(.service, $0.serviceName, .read) }
            .sorted { $0.checkID < $1.checkID }
            .map { CatalogJSON.Check(node: node.name, check: $0) }
    }

    private func instances(of name: String, in nodes: [CatalogNode]) -> [(CatalogNode, CatalogService)] {
        guard call.authorizer.allows(.service, name, .read) else { return [] }
        let tag = call.query["tag"]
        return nodes.flatMap { node in
            node.services.values
                .filter { $0.name == name && (tag == nil || $0.tags.contains(tag!)) }
                .sorted { $0.id < $1.id }
                .map { (node, $0) }
        }
    }

    /// A blocking read of the catalog, over the nodes the token may read, reporting the index of
    /// the table it depends on.
    /// With `service`, only the nodes providing it are visited.
    private func read<Body: Encodable>(
        _ table: CatalogTable = .all, providing service: String? = nil, _ body: @escaping ([CatalogNode]) -> Body
    ) async -> Response {
        await call.blocking(topic: .catalog) {
            let index = await call.store.index(of: table)
            let candidates = if let service { await call.store.nodes(providing: service) } else { await call.store.nodes }
            let nodes = candidates.filter { call.authorizer.allows(.node, $0.name, .read) }
            return (ConsulResponse.json(body(nodes), index: index), index)
        }
    }

    private func register() async throws(StorageError) -> Response {
        let request: RegisterRequest
        switch await call.decodeBody(RegisterRequest.self) {
        case .success(let decoded): request = decoded
        case .failure(let error): return error.response
        }
        if let datacenter = request.datacenter, !datacenter.isEmpty, datacenter != Self.datacenter {
            return ConsulResponse.text(.internalServerError, "No path to datacenter")
        }
        guard let node = request.node, !node.isEmpty else { return ConsulResponse.text(.badRequest, "Must provide node") }
        guard let address = request.address, !address.isEmpty else { return ConsulResponse.text(.badRequest, "Must provide address") }
        guard call.authorizer.allows(.node, node, .write) else { return call.forbidden(.node, node, .write) }
        var service: CatalogRegistration.Service?
        if let wire = request.service {
            guard let name = wire.service, !name.isEmpty else { return ConsulResponse.text(.badRequest, "Must provide service name") }
            guard call.authorizer.allows(.service, name, .write) else { return call.forbidden(.service, name, .write) }
            service = .init(
                id: wire.id.flatMap { $0.isEmpty ? nil : $0 } ?? name, name: name, tags: wire.tags ?? [],
                address: wire.address ?? "", port: wire.port ?? 0, meta: wire.meta ?? [:])
        }
        var checks: [CatalogRegistration.Check] = []
        for wire in (request.check.map { [$0] } ?? []) + (request.checks ?? []) {
            let status = wire.status.flatMap { $0.isEmpty ? nil : $0 } ?? "critical"
            guard Self.checkStatuses.contains(status) else { return ConsulResponse.text(.badRequest, "Invalid check status: \"\(status)\"") }
            let checkID = wire.checkid.flatMap { $0.isEmpty ? nil : $0 } ?? wire.name ?? ""
            guard !checkID.isEmpty else { return ConsulResponse.text(.badRequest, "Must provide a check ID or name") }
            checks.append(.init(
                checkID: checkID, name: wire.name ?? checkID, status: status, notes: wire.notes ?? "", output: wire.output ?? "",
                serviceID: wire.serviceid ?? ""))
        }
        let registration = CatalogRegistration(
            node: node, id: request.id, address: address, taggedAddresses: request.taggedaddresses ?? [:],
            meta: request.nodemeta ?? [:], service: service, checks: checks)
        try await call.store.register(registration, datacenter: Self.datacenter)
        return ConsulResponse.json(true)
    }

    private func deregister() async throws(StorageError) -> Response {
        let request: DeregisterRequest
        switch await call.decodeBody(DeregisterRequest.self) {
        case .success(let decoded): request = decoded
        case .failure(let error): return error.response
        }
        if let datacenter = request.datacenter, !datacenter.isEmpty, datacenter != Self.datacenter {
            return ConsulResponse.text(.internalServerError, "No path to datacenter")
        }
        guard let node = request.node, !node.isEmpty else { return ConsulResponse.text(.badRequest, "Must provide node") }
        guard call.authorizer.allows(.node, node, .write) else { return call.forbidden(.node, node, .write) }
        try await call.store.deregister(node: node, serviceID: request.serviceid, checkID: request.checkid)
        return ConsulResponse.json(true)
    }
}

/// A response that ends a request early.
struct ResponseError: Error {
    let response: Response
    init(_ response: Response) { self.response = response }
}
