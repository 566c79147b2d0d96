import Hummingbird

/// A minimal `/v1/acl` subset: policies (create, update, read, list, delete) and tokens
/// (create, update, read, self, list, delete). Managing them needs the bootstrap token or
/// `acl = "write"`. Without `--acl-bootstrap-token`, ACLs are off and this answers 401.
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

        var accessorid: String?
        var secretid: String?
        var description: String?
        var policies: [Link]?
    }

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
            guard let policy = await call.store.policy(id: id) else { return notFound("policy") }
            return ConsulResponse.json(ACLJSON.Policy(policy: policy), index: index)
        case (.delete, "policy", let id):
            return ConsulResponse.json(try await call.store.deletePolicy(id: id))
        case (.get, "tokens", ""):
            return ConsulResponse.json(await tokensJSON(await call.store.tokens), index: index)
        case (.put, "token", let accessor):
            return try await saveToken(accessorID: accessor.isEmpty ? nil : accessor)
        case (.get, "token", let accessor):
            guard let token = await call.store.token(accessorID: accessor) else { return notFound("token") }
            return ConsulResponse.json(await tokensJSON([token])[0], index: index)
        case (.delete, "token", let accessor):
            return ConsulResponse.json(try await call.store.deleteToken(accessorID: accessor))
        default:
            return ConsulResponse.text(.notFound, "Not found: \(call.method) /v1/acl/\(rest)")
        }
    }

    private func notFound(_ what: String) -> Response {
        ConsulResponse.text(.forbidden, "ACL not found: no such \(what)")
    }

    private func selfToken() async -> Response {
        guard let secret = call.token, let token = await call.store.token(secret: secret) else {
            return ConsulResponse.text(.forbidden, "ACL not found")
        }
        return ConsulResponse.json(await tokensJSON([token])[0])
    }

    private func savePolicy(id: String?) async throws(StorageError) -> Response {
        let request: PolicyRequest
        switch await call.decodeBody(PolicyRequest.self) {
        case .success(let decoded): request = decoded
        case .failure(let error): return error.response
        }
        guard let name = request.name, !name.isEmpty else { return ConsulResponse.text(.badRequest, "Invalid Policy: no Name is set") }
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
        if let accessorID, await call.store.token(accessorID: accessorID) == nil { return notFound("token") }
        var policyIDs: [String] = []
        for link in request.policies ?? [] {
            let policy: ACLPolicy?
            if let id = link.id, !id.isEmpty { policy = await call.store.policy(id: id) } else { policy = await call.store.policy(named: link.name ?? "") }
            guard let policy else {
                return ConsulResponse.text(.badRequest, "No such ACL policy with \(link.id.map { "ID \"\($0)\"" } ?? "name \"\(link.name ?? "")\"")")
            }
            policyIDs.append(policy.id)
        }
        if accessorID == nil, let secret = request.secretid, await call.store.token(secret: secret) != nil {
            return ConsulResponse.text(.badRequest, "Invalid Token: SecretID is already in use")
        }
        let token = try await call.store.saveToken(
            accessorID: accessorID ?? request.accessorid, secretID: request.secretid, description: request.description ?? "",
            policyIDs: policyIDs)
        return ConsulResponse.json(await tokensJSON([token])[0])
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

        private enum CodingKeys: String, CodingKey {
            case accessorID = "AccessorID", secretID = "SecretID", description = "Description", policies = "Policies"
            case local = "Local", createIndex = "CreateIndex", modifyIndex = "ModifyIndex"
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(token.accessorID, forKey: .accessorID)
            try container.encode(token.secretID, forKey: .secretID)
            try container.encode(token.description, forKey: .description)
            try container.encode(policies, forKey: .policies)
            try container.encode(false, forKey: .local)
            try container.encode(token.createIndex, forKey: .createIndex)
            try container.encode(token.modifyIndex, forKey: .modifyIndex)
        }
    }
}
