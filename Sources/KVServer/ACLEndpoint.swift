import Foundation
import Hummingbird
import KV

/// `/v1/acl`: policies (create, update, read, list, delete) and tokens (create, update, read,
/// self, list with Consul's filters, delete), with Consul's built-ins: the `global-management`
/// policy, the bootstrap token (from `--acl-bootstrap-token-file`, holding that policy) and the
/// anonymous token. Tokens take expirations, service and node identities and `Local`; roles
/// and auth methods do not exist here and are refused, never dropped. Managing ACLs needs
/// `acl = "write"` (or global-management). Without a bootstrap token, ACLs are off: 401.
struct ACLEndpoint {
    let call: ConsulCall

    private struct PolicyRequest: Decodable {
        var name: String?
        var description: String?
        var rules: String?
    }

    private struct TokenRequest: Decodable {
        struct Link: Decodable {
            var id: String?
            var name: String?
        }

        struct ServiceIdentity: Decodable {
            var servicename: String?
            var datacenters: [String]?
        }

        struct NodeIdentity: Decodable {
            var nodename: String?
            var datacenter: String?
        }

        var accessorid: String?
        var secretid: String?
        var description: String?
        var policies: [Link]?
        var roles: [Link]?
        var serviceidentities: [ServiceIdentity]?
        var nodeidentities: [NodeIdentity]?
        var local: Bool?
        var expirationtime: String?
        var expirationttl: String?
        var authmethod: String?
    }

    /// Consul's bounds for a token's ExpirationTTL.
    static let expirationBounds: ClosedRange<Duration> = .seconds(60)...(.seconds(86_400))

    func respond(_ rest: String) async throws(StorageError) -> Response {
        guard await call.store.aclsEnabled else { return ConsulResponse.text(.unauthorized, "ACL support disabled") }
        let parts = rest.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        if call.method == .get, parts == ["token", "self"] { return await selfToken() }
        guard call.authorizer.canManageACLs else { return ConsulResponse.text(.forbidden, "Permission denied: this token lacks permission 'acl:write'") }
        let index = await call.store.currentIndex
        switch (call.method, parts.first ?? "", parts.dropFirst().joined(separator: "/")) {
        case (.get, "policies", ""):
            return ConsulResponse.json(await call.store.policies.map(ACLJSON.Policy.init), index: index)
        case (.put, "policy", let id):
            return try await savePolicy(id: id.isEmpty ? nil : id)
        case (.get, "policy", let id) where id.hasPrefix("name/"):
            guard let policy = await call.store.policy(named: String(id.dropFirst(5))) else { return notFound("policy") }
            return ConsulResponse.json(ACLJSON.Policy(policy: policy), index: index)
        case (.get, "policy", let id):
            guard let policy = await call.store.policy(id: id) else { return notFound("policy", id: id) }
            return ConsulResponse.json(ACLJSON.Policy(policy: policy), index: index)
        case (.delete, "policy", let id):
            guard id != BuiltInACL.globalManagementPolicyID else {
                return ConsulResponse.text(.badRequest, "Deletion of the builtin global-management policy is not permitted")
            }
            return ConsulResponse.json(try await call.store.deletePolicy(id: id))
        case (.get, "tokens", ""):
            return await listTokens(index: index)
        case (.get, "roles", ""), (.get, "auth-methods", ""), (.get, "binding-rules", ""):
            return ConsulResponse.json([String](), index: index)
        case (.put, "token", let path) where path.hasSuffix("/clone"):
            return try await cloneToken(accessorID: String(path.dropLast("/clone".count)))
        case (.put, "token", let accessor):
            return try await saveToken(accessorID: accessor.isEmpty ? nil : accessor)
        case (.get, "token", let accessor):
            guard let token = await call.store.token(accessorID: accessor) else { return notFound("token", id: accessor) }
            return ConsulResponse.json(await tokensJSON([token])[0], index: index)
        case (.delete, "token", let accessor):
            if accessor == BuiltInACL.anonymousAccessorID {
                return ConsulResponse.text(.badRequest, "Delete operation not permitted on the anonymous token")
            }
            if let token = await call.store.token(accessorID: accessor), token.secretID == call.store.bootstrapToken {
                return ConsulResponse.text(.badRequest, "The bootstrap token comes from --acl-bootstrap-token-file: change that file and restart")
            }
            return ConsulResponse.json(try await call.store.deleteToken(accessorID: accessor))
        default:
            return ConsulResponse.text(.notFound, "Not found: \(call.method) /v1/acl/\(rest)")
        }
    }

    /// Consul: a malformed ID is 400; a well-formed one that names no policy is 404, no token 403
    /// "ACL not found".
    private func notFound(_ what: String, id: String? = nil) -> Response {
        if let id, UUID(uuidString: id) == nil {
            return ConsulResponse.text(.badRequest, "Invalid \(what) ID: \"\(id)\" is not a UUID")
        }
        return ConsulResponse.text(what == "policy" ? .notFound : .forbidden, "ACL not found: no such \(what)")
    }

    private func selfToken() async -> Response {
        guard let token = await call.store.token(secret: call.token ?? BuiltInACL.anonymousSecret) else {
            return ConsulResponse.text(.forbidden, "ACL not found")
        }
        return ConsulResponse.json(await tokensJSON([token])[0])
    }

    /// `GET /v1/acl/tokens` with Consul's filters: `policy`, `role`, `authmethod`, `servicename`.
    private func listTokens(index: UInt64) async -> Response {
        var tokens = await call.store.tokens
        if let policy = call.query["policy"] { tokens = tokens.filter { $0.policyIDs.contains(policy) } }
        if call.query["role"] != nil || call.query["authmethod"] != nil { tokens = [] }
        if let service = call.query["servicename"] {
            tokens = tokens.filter { ($0.serviceIdentities ?? []).contains { $0.serviceName == service } }
        }
        // Listing needs acl:write here, which Consul shows secrets to.
        return ConsulResponse.json(await tokensJSON(tokens), index: index)
    }

    private func savePolicy(id: String?) async throws(StorageError) -> Response {
        let request: PolicyRequest
        switch await call.decodeBody(PolicyRequest.self) {
        case .success(let decoded): request = decoded
        case .failure(let error): return error.response
        }
        guard let name = request.name, !name.isEmpty else { return ConsulResponse.text(.badRequest, "Invalid Policy: no Name is set") }
        if id == BuiltInACL.globalManagementPolicyID || name == BuiltInACL.globalManagementPolicy.name {
            return ConsulResponse.text(.badRequest, "Changing the Rules for the builtin global-management policy is not permitted")
        }
        if let id, await call.store.policy(id: id) == nil { return notFound("policy") }
        if let other = await call.store.policy(named: name), other.id != id {
            return ConsulResponse.text(.badRequest, "Invalid Policy: A Policy with Name \"\(name)\" already exists")
        }
        let text = request.rules ?? ""
        let rules: ACLRules
        do {
            rules = try ACLRulesParser.parse(text)
        } catch {
            return ConsulResponse.text(.badRequest, "\(error)")
        }
        let policy = try await call.store.savePolicy(id: id, name: name, description: request.description ?? "", rulesText: text, rules: rules)
        return ConsulResponse.json(ACLJSON.Policy(policy: policy))
    }

    private func saveToken(accessorID: String?) async throws(StorageError) -> Response {
        let request: TokenRequest
        switch await call.decodeBody(TokenRequest.self) {
        case .success(let decoded): request = decoded
        case .failure(let error): return error.response
        }
        let existing = await accessorID.asyncMap { await call.store.token(accessorID: $0) }
        if let accessorID, existing == nil { return notFound("token", id: accessorID) }
        if let existing, existing.secretID == call.store.bootstrapToken {
            return ConsulResponse.text(.badRequest, "The bootstrap token comes from --acl-bootstrap-token-file and cannot be changed here")
        }
        if !(request.roles ?? []).isEmpty { return ConsulResponse.text(.badRequest, "Invalid Token: roles are not supported by git2kv kv-server") }
        if let method = request.authmethod, !method.isEmpty {
            return ConsulResponse.text(.badRequest, "Invalid Token: auth methods are not supported by git2kv kv-server")
        }
        var policyIDs: [String] = []
        for link in request.policies ?? [] {
            let policy: ACLPolicy?
            if let id = link.id, !id.isEmpty { policy = await call.store.policy(id: id) } else { policy = await call.store.policy(named: link.name ?? "") }
            guard let policy else {
                return ConsulResponse.text(.badRequest, "No such ACL policy with \(link.id.map { "ID \"\($0)\"" } ?? "name \"\(link.name ?? "")\"")")
            }
            policyIDs.append(policy.id)
        }
        var services: [ACLToken.ServiceIdentity] = []
        for identity in request.serviceidentities ?? [] {
            guard let name = identity.servicename, ACLToken.isValidIdentityName(name) else {
                return ConsulResponse.text(.badRequest, "Invalid Token: Service identity has an invalid name \"\(identity.servicename ?? "")\"")
            }
            services.append(.init(serviceName: name, datacenters: identity.datacenters))
        }
        var nodes: [ACLToken.NodeIdentity] = []
        for identity in request.nodeidentities ?? [] {
            guard let name = identity.nodename, ACLToken.isValidIdentityName(name) else {
                return ConsulResponse.text(.badRequest, "Invalid Token: Node identity has an invalid name \"\(identity.nodename ?? "")\"")
            }
            guard let datacenter = identity.datacenter, !datacenter.isEmpty else {
                return ConsulResponse.text(.badRequest, "Invalid Token: Node identity is missing the datacenter field")
            }
            nodes.append(.init(nodeName: name, datacenter: datacenter))
        }
        var expiration = existing?.expirationTime
        switch Self.expiration(of: request, now: Date()) {
        case .success(let requested?):
            guard existing == nil || requested == existing?.expirationTime else {
                return ConsulResponse.text(.badRequest, "Cannot change expiration time")
            }
            expiration = requested
        case .success(nil): break
        case .failure(let message): return ConsulResponse.text(.badRequest, "Invalid Token: \(message)")
        }
        if existing == nil, let secret = request.secretid, await call.store.token(secret: secret) != nil {
            return ConsulResponse.text(.badRequest, "Invalid Token: SecretID is already in use")
        }
        if let secret = request.secretid, let existing, secret != existing.secretID {
            return ConsulResponse.text(.badRequest, "Changing a token's SecretID is not permitted")
        }
        let token = ACLToken(
            accessorID: existing?.accessorID ?? request.accessorid ?? UUID().uuidString.lowercased(),
            secretID: existing?.secretID ?? request.secretid ?? UUID().uuidString.lowercased(), description: request.description ?? "",
            policyIDs: policyIDs, isManagement: false, createIndex: 0, modifyIndex: 0, expirationTime: expiration,
            local: request.local ?? existing?.local ?? false, serviceIdentities: services.isEmpty ? nil : services, nodeIdentities: nodes.isEmpty ? nil : nodes)
        return ConsulResponse.json(await tokensJSON([try await call.store.saveToken(token)])[0])
    }

    /// `PUT /v1/acl/token/<accessor>/clone`: a new token (new accessor and secret) with the
    /// same policies, identities and expiration, and the request's description.
    private func cloneToken(accessorID: String) async throws(StorageError) -> Response {
        struct CloneRequest: Decodable { var description: String? }
        guard var token = await call.store.token(accessorID: accessorID) else { return notFound("token", id: accessorID) }
        guard token.secretID != call.store.bootstrapToken, token.accessorID != BuiltInACL.anonymousAccessorID else {
            return ConsulResponse.text(.badRequest, "Cannot clone a built-in token")
        }
        let request: CloneRequest
        switch await call.decodeBody(CloneRequest.self) {
        case .success(let decoded): request = decoded
        case .failure(let error): return error.response
        }
        token.accessorID = UUID().uuidString.lowercased()
        token.secretID = UUID().uuidString.lowercased()
        token.description = request.description ?? token.description
        return ConsulResponse.json(await tokensJSON([try await call.store.saveToken(token)])[0])
    }

    /// ExpirationTime (RFC 3339) or ExpirationTTL (a duration), as Consul bounds them.
    private static func expiration(of request: TokenRequest, now: Date) -> Result<Date?, ExpirationProblem> {
        let ttlText = request.expirationttl.flatMap { $0.isEmpty || $0 == "0s" ? nil : $0 }
        let timeText = request.expirationtime.flatMap { $0.isEmpty ? nil : $0 }
        if ttlText != nil, timeText != nil { return .failure("Expiration TTL and Expiration Time cannot both be set") }
        if let ttlText {
            guard let ttl = ConsulWire.parseDuration(Substring(ttlText)) else { return .failure("Expiration TTL \"\(ttlText)\" is not a duration") }
            guard expirationBounds.contains(ttl) else {
                return .failure("Expiration TTL '\(ttlText)' should be between 1m0s and 24h0m0s")
            }
            return .success(now.addingTimeInterval(Double(ttl.nanosecondsValue) / 1e9))
        }
        if let timeText {
            guard let time = ISO8601DateFormatter.withFractions.date(from: timeText) ?? ISO8601DateFormatter().date(from: timeText) else {
                return .failure("Expiration Time \"\(timeText)\" is not an RFC 3339 time")
            }
            guard time > now else { return .failure("ExpirationTime cannot be in the past") }
            guard time <= now.addingTimeInterval(86_400), time >= now.addingTimeInterval(60) else {
                return .failure("ExpirationTime should be between 1m0s and 24h0m0s in the future")
            }
            return .success(time)
        }
        return .success(nil)
    }

    struct ExpirationProblem: Error, ExpressibleByStringInterpolation, CustomStringConvertible {
        let description: String
        init(stringLiteral value: String) { description = value }
        init(_ value: String) { description = value }
    }

    private func tokensJSON(_ tokens: [ACLToken]) async -> [ACLJSON.Token] {
        var result: [ACLJSON.Token] = []
        for token in tokens {
            var links: [ACLJSON.Link] = []
            for id in token.policyIDs { links.append(ACLJSON.Link(id: id, name: await call.store.policy(id: id)?.name ?? "")) }
            result.append(ACLJSON.Token(token: token, policies: links))
        }
        return result
    }
}

/// ACL JSON in Consul's shapes.
enum ACLJSON {
    struct Policy: Encodable {
        let policy: ACLPolicy

        private enum CodingKeys: String, CodingKey {
            case id = "ID", name = "Name", description = "Description", rules = "Rules", createIndex = "CreateIndex", modifyIndex = "ModifyIndex"
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(policy.id, forKey: .id)
            try container.encode(policy.name, forKey: .name)
            try container.encode(policy.description, forKey: .description)
            try container.encode(policy.rulesText, forKey: .rules)
            try container.encode(policy.createIndex, forKey: .createIndex)
            try container.encode(policy.modifyIndex, forKey: .modifyIndex)
        }
    }

    struct Link: Encodable {
        let id: String
        let name: String

        private enum CodingKeys: String, CodingKey { case id = "ID", name = "Name" }
    }

    struct Token: Encodable {
        let token: ACLToken
        let policies: [Link]

        init(token: ACLToken, policies: [Link]) {
            self.token = token
            self.policies = policies
        }

        private enum CodingKeys: String, CodingKey {
            case accessorID = "AccessorID", secretID = "SecretID", description = "Description", policies = "Policies"
            case serviceIdentities = "ServiceIdentities", nodeIdentities = "NodeIdentities", local = "Local"
            case expirationTime = "ExpirationTime", createIndex = "CreateIndex", modifyIndex = "ModifyIndex"
        }

        private struct ServiceIdentityJSON: Encodable {
            let identity: ACLToken.ServiceIdentity
            private enum CodingKeys: String, CodingKey { case serviceName = "ServiceName", datacenters = "Datacenters" }
            func encode(to encoder: any Encoder) throws {
                var container = encoder.container(keyedBy: CodingKeys.self)
                try container.encode(identity.serviceName, forKey: .serviceName)
                try container.encodeIfPresent(identity.datacenters, forKey: .datacenters)
            }
        }

        private struct NodeIdentityJSON: Encodable {
            let identity: ACLToken.NodeIdentity
            private enum CodingKeys: String, CodingKey { case nodeName = "NodeName", datacenter = "Datacenter" }
            func encode(to encoder: any Encoder) throws {
                var container = encoder.container(keyedBy: CodingKeys.self)
                try container.encode(identity.nodeName, forKey: .nodeName)
                try container.encode(identity.datacenter, forKey: .datacenter)
            }
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(token.accessorID, forKey: .accessorID)
            try container.encode(token.secretID, forKey: .secretID)
            try container.encode(token.description, forKey: .description)
            try container.encode(policies, forKey: .policies)
            if let identities = token.serviceIdentities, !identities.isEmpty {
                try container.encode(identities.map(ServiceIdentityJSON.init), forKey: .serviceIdentities)
            }
            if let identities = token.nodeIdentities, !identities.isEmpty {
                try container.encode(identities.map(NodeIdentityJSON.init), forKey: .nodeIdentities)
            }
            try container.encode(token.local ?? false, forKey: .local)
            if let expiration = token.expirationTime {
                try container.encode(ISO8601DateFormatter.withFractions.string(from: expiration), forKey: .expirationTime)
            }
            try container.encode(token.createIndex, forKey: .createIndex)
            try container.encode(token.modifyIndex, forKey: .modifyIndex)
        }
    }
}

extension ISO8601DateFormatter {
    /// RFC 3339 with fractional seconds, as Go writes times (a new one each time: formatters
    /// are not Sendable, and tokens are written rarely).
    static var withFractions: ISO8601DateFormatter {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter
    }
}

extension Optional {
    fileprivate func asyncMap<Mapped>(_ transform: (Wrapped) async -> Mapped?) async -> Mapped? {
        guard let self else { return nil }
        return await transform(self)
    }
}
