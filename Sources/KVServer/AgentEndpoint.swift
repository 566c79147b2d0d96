import Hummingbird
import KV

/// `/v1/agent/` for the server's own node: self, members, services, service/<id>, checks,
/// service register/deregister, TTL check register/deregister and pass/warn/fail/update. Only
/// TTL checks exist here (no process runs HTTP, TCP or script checks); other kinds are refused.
struct AgentEndpoint {
    let call: ConsulCall

    private struct CheckRequest: Decodable {
        var id: String?
        var checkid: String?
        var name: String?
        var serviceid: String?
        var ttl: String?
        var notes: String?
        var status: String?
        var http: String?
        var tcp: String?
        var args: [String]?
        var grpc: String?
    }

    private struct ServiceRequest: Decodable {
        struct TaggedAddress: Decodable {
            var address: String?
            var port: Int?
        }

        var id: String?
        var kind: String?
        var connect: [String: String]?
        var enabletagoverride: Bool?
        var taggedaddresses: [String: TaggedAddress]?
        // Consul also takes these fields in snake case.
        var enable_tag_override: Bool?
        var tagged_addresses: [String: TaggedAddress]?
        var name: String?
        var tags: [String]?
        var address: String?
        var port: Int?
        var meta: [String: String]?
        var check: CheckRequest?
        var checks: [CheckRequest]?
    }

    private struct UpdateRequest: Decodable {
        var status: String?
        var output: String?
    }

    private var node: String { ServerStore.selfNodeName }

    func respond(_ rest: String) async throws(StorageError) -> Response {
        let parts = rest.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        switch (call.method, parts.first ?? "", parts.count > 1 ? parts[1] : nil, parts.count > 2 ? parts[2] : nil) {
        case (.get, "self", nil, nil):
            guard call.authorizer.allows(.node, node, .read) else { return call.forbidden(.node, node, .read) }
            return ConsulResponse.json(AgentJSON.SelfInfo(node: await call.store.selfNode))
        case (.get, "members", nil, nil):
            guard call.authorizer.allows(.node, node, .read) else { return ConsulResponse.json([AgentJSON.Member]()) }
            let wan = call.query.has("wan") && !["0", "false"].contains(call.query["wan"] ?? "")
            return ConsulResponse.json([AgentJSON.Member(node: await call.store.selfNode, wan: wan)])
        case (.put, "force-leave", let name?, nil):
            // One server: there is no other member to remove, and this one cannot remove itself.
            guard call.authorizer.allows(.node, node, .write) else { return call.forbidden(.node, node, .write) }
            return ConsulResponse.text(.internalServerError, "No node found with name \(name)")
        case (.put, "reload", nil, nil):
            // kv-server has no configuration file: there is nothing to read again.
            guard call.authorizer.allows(.node, node, .write) else { return call.forbidden(.node, node, .write) }
            return ConsulResponse.text(.ok, "")
        case (.get, "monitor", nil, nil):
            let level = (call.query["loglevel"] ?? "info").lowercased()
            guard ["trace", "debug", "info", "warn", "error"].contains(level) else {
                return ConsulResponse.text(.badRequest, "Unknown log level: \(level)")
            }
            return ConsulResponse.text(.badRequest, "git2kv kv-server does not stream its logs: read its standard error")
        case (.put, "token", _?, nil):
            guard await call.store.aclsEnabled else { return ConsulResponse.text(.unauthorized, "ACL support disabled") }
            return ConsulResponse.text(.badRequest, "git2kv kv-server makes no requests of its own, so it has no use for agent tokens")
        case (.put, "maintenance", nil, nil):
            guard call.authorizer.allows(.node, node, .write) else { return call.forbidden(.node, node, .write) }
            return try await maintenance(checkID: "_node_maintenance", serviceID: nil, name: "Node Maintenance Mode")
        case (.put, "service", "maintenance", let id?):
            guard let service = await call.store.selfNode?.services[id] else { return ConsulResponse.text(.notFound, "Unknown service ID \"\(id)\"") }
            guard call.authorizer.allows(.service, service.name, .write) else { return call.forbidden(.service, service.name, .write) }
            return try await maintenance(checkID: "_service_maintenance:\(id)", serviceID: id, name: "Service Maintenance Mode")
        case (.get, "services", nil, nil):
            // Consul's own `consul` service is the server's, not one registered with the agent: not listed.
            let services = await call.store.selfNode?.services.values.filter { $0.id != "consul" && call.authorizer.allows(.service, $0.name, .read) } ?? []
            return ConsulResponse.json(Dictionary(uniqueKeysWithValues: services.map { ($0.id, AgentJSON.Service(service: $0)) }))
        case (.get, "service", let id?, nil):
            guard let service = await call.store.selfNode?.services[id] else { return ConsulResponse.text(.notFound, "unknown service ID: \(id)") }
            guard call.authorizer.allows(.service, service.name, .read) else { return call.forbidden(.service, service.name, .read) }
            return ConsulResponse.json(AgentJSON.Service(service: service))
        case (.get, "checks", nil, nil):
            // serfHealth is the server's, not a check registered with the agent: not listed (as Consul).
            let checks = await call.store.selfNode?.checks.values.filter { $0.checkID != "serfHealth" && readable($0) } ?? []
            return ConsulResponse.json(Dictionary(uniqueKeysWithValues: checks.map { ($0.checkID, CatalogJSON.Check(node: node, check: $0)) }))
        case (.put, "service", "register", nil): return try await registerService()
        case (.put, "service", "deregister", let id?):
            guard let service = await call.store.selfNode?.services[id] else { return ConsulResponse.text(.notFound, "Unknown service ID \"\(id)\"") }
            guard call.authorizer.allows(.service, service.name, .write) else { return call.forbidden(.service, service.name, .write) }
            try await call.store.agentDeregister(serviceID: id)
            return ConsulResponse.text(.ok, "")
        case (.put, "check", "register", nil): return try await registerCheck()
        case (.put, "check", "deregister", let id?):
            guard let check = await call.store.selfNode?.checks[id] else { return ConsulResponse.text(.notFound, "Unknown check ID \"\(id)\"") }
            if let denied = writeDenial(for: check) { return denied }
            try await call.store.agentDeregister(checkID: id)
            return ConsulResponse.text(.ok, "")
        case (.put, "check", let verb?, let id?) where ["pass", "warn", "fail", "update"].contains(verb):
            return try await updateCheck(verb: verb, id: id)
        default:
            return ConsulResponse.text(.notFound, "Not found: \(call.method) /v1/agent/\(rest)")
        }
    }

    private func readable(_ check: HealthCheck) -> Bool {
        check.serviceName.isEmpty ? call.authorizer.allows(.node, node, .read) : call.authorizer.allows(.service, check.serviceName, .read)
    }

    private func writeDenial(for check: HealthCheck) -> Response? {
        if check.serviceName.isEmpty {
            return call.authorizer.allows(.node, node, .write) ? nil : call.forbidden(.node, node, .write)
        }
        return call.authorizer.allows(.service, check.serviceName, .write) ? nil : call.forbidden(.service, check.serviceName, .write)
    }

    /// A check of the request as the catalog keeps it; a failure is the response to send.
    private func check(_ request: CheckRequest, serviceID: String?) -> Result<CatalogRegistration.Check, ResponseError> {
        if request.http != nil || request.tcp != nil || request.args != nil || request.grpc != nil {
            return .failure(ResponseError(ConsulResponse.text(.badRequest, "Invalid check: git2kv kv-server runs only TTL checks (no HTTP, TCP, gRPC or script checks)")))
        }
        guard let ttl = request.ttl, let parsed = ConsulWire.parseDuration(Substring(ttl)), parsed > .zero else {
            return .failure(ResponseError(ConsulResponse.text(.badRequest, "Invalid check: TTL must be > 0 for TTL checks")))
        }
        let status = request.status.flatMap { $0.isEmpty ? nil : $0 } ?? "critical"
        guard CatalogEndpoint.checkStatuses.contains(status) else {
            return .failure(ResponseError(ConsulResponse.text(.badRequest, "Invalid check status: \"\(status)\"")))
        }
        let name = request.name ?? ""
        let defaultID = serviceID.map { "service:\($0)" } ?? name
        let id = [request.checkid, request.id].compactMap { $0 }.first { !$0.isEmpty } ?? defaultID
        guard !id.isEmpty else { return .failure(ResponseError(ConsulResponse.text(.badRequest, "Missing check name"))) }
        return .success(.init(
            checkID: id, name: name.isEmpty ? id : name, status: status, notes: request.notes ?? "", output: "",
            serviceID: request.serviceid ?? serviceID ?? "", ttl: ttl))
    }

    private func registerService() async throws(StorageError) -> Response {
        let request: ServiceRequest
        switch await call.decodeBody(ServiceRequest.self) {
        case .success(let decoded): request = decoded
        case .failure(let error): return error.response
        }
        guard let name = request.name, !name.isEmpty else { return ConsulResponse.text(.badRequest, "Missing service name") }
        if let kind = request.kind, !kind.isEmpty {
            return ConsulResponse.text(.badRequest, "Invalid service: kind \"\(kind)\" needs Consul Connect, which git2kv kv-server does not have")
        }
        if request.connect != nil { return ConsulResponse.text(.badRequest, "Invalid service: Connect is not supported by git2kv kv-server") }
        guard call.authorizer.allows(.service, name, .write) else { return call.forbidden(.service, name, .write) }
        let id = request.id.flatMap { $0.isEmpty ? nil : $0 } ?? name
        var checks: [CatalogRegistration.Check] = []
        for wire in (request.check.map { [$0] } ?? []) + (request.checks ?? []) {
            switch check(wire, serviceID: id) {
            case .success(let check): checks.append(check)
            case .failure(let error): return error.response
            }
        }
        let tagged = (request.taggedaddresses ?? request.tagged_addresses)?.mapValues { CatalogService.TaggedAddress(address: $0.address ?? "", port: $0.port ?? 0) }
        let service = CatalogRegistration.Service(
            id: id, name: name, tags: request.tags ?? [], address: request.address ?? "", port: request.port ?? 0, meta: request.meta ?? [:],
            taggedAddresses: tagged, enableTagOverride: request.enabletagoverride ?? request.enable_tag_override)
        try await call.store.agentRegister(service: service, checks: checks)
        return ConsulResponse.text(.ok, "")
    }

    private func registerCheck() async throws(StorageError) -> Response {
        let request: CheckRequest
        switch await call.decodeBody(CheckRequest.self) {
        case .success(let decoded): request = decoded
        case .failure(let error): return error.response
        }
        var serviceName: String?
        if let serviceID = request.serviceid, !serviceID.isEmpty {
            guard let service = await call.store.selfNode?.services[serviceID] else {
                return ConsulResponse.text(.notFound, "ServiceID \"\(serviceID)\" does not exist")
            }
            serviceName = service.name
        }
        let registration: CatalogRegistration.Check
        switch check(request, serviceID: nil) {
        case .success(let check): registration = check
        case .failure(let error): return error.response
        }
        if let serviceName {
            guard call.authorizer.allows(.service, serviceName, .write) else { return call.forbidden(.service, serviceName, .write) }
        } else if !call.authorizer.allows(.node, node, .write) {
            return call.forbidden(.node, node, .write)
        }
        try await call.store.agentRegister(service: nil, checks: [registration])
        return ConsulResponse.text(.ok, "")
    }

    /// `?enable=true` adds Consul's critical maintenance check (with `?reason=`); `false` removes it.
    private func maintenance(checkID: String, serviceID: String?, name: String) async throws(StorageError) -> Response {
        guard let enable = call.query["enable"], ["true", "false"].contains(enable) else {
            return ConsulResponse.text(.badRequest, "Missing value for enable")
        }
        if enable == "false" {
            if await call.store.selfNode?.checks[checkID] != nil { try await call.store.agentDeregister(checkID: checkID) }
            return ConsulResponse.text(.ok, "")
        }
        let reason = call.query["reason"].flatMap { $0.isEmpty ? nil : $0 } ?? "Maintenance mode is enabled for this \(serviceID == nil ? "node" : "service")."
        try await call.store.agentRegister(
            service: nil,
            checks: [.init(checkID: checkID, name: name, status: "critical", notes: reason, output: "", serviceID: serviceID ?? "")])
        return ConsulResponse.text(.ok, "")
    }

    private func updateCheck(verb: String, id: String) async throws(StorageError) -> Response {
        guard let check = await call.store.selfNode?.checks[id] else { return ConsulResponse.text(.notFound, "Unknown check ID \"\(id)\"") }
        if let denied = writeDenial(for: check) { return denied }
        var status: String
        var output = call.query["note"] ?? ""
        switch verb {
        case "pass": status = "passing"
        case "warn": status = "warning"
        case "fail": status = "critical"
        default:
            let request: UpdateRequest
            switch await call.decodeBody(UpdateRequest.self) {
            case .success(let decoded): request = decoded
            case .failure(let error): return error.response
            }
            status = request.status ?? ""
            output = request.output ?? ""
            guard ["passing", "warning", "critical"].contains(status) else {
                return ConsulResponse.text(.badRequest, "Invalid check status: \"\(status)\"")
            }
        }
        guard try await call.store.agentUpdate(checkID: id, status: status, output: output) else {
            return ConsulResponse.text(.notFound, "Unknown check ID \"\(id)\"")
        }
        return ConsulResponse.text(.ok, "")
    }
}
