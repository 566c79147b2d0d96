import Foundation

extension ServerStore {
    var aclsEnabled: Bool { bootstrapToken != nil }

    /// The authorizer for a request's token; nil when ACLs are on and the token is unknown or
    /// expired. No token at all is the anonymous token, with whatever policies it was given.
    func authorizer(for secret: String?) -> Authorizer? {
        guard bootstrapToken != nil else { return .unrestricted }
        let now = Date()
        let presented = secret.flatMap { $0.isEmpty ? nil : $0 } ?? BuiltInACL.anonymousSecret
        guard let token = token(secret: presented), !token.isExpired(at: now) else { return nil }
        if token.isManagement || token.policyIDs.contains(BuiltInACL.globalManagementPolicyID) {
            return Authorizer(identity: .management(accessorID: token.accessorID))
        }
        let rules = ACLRules.merged(token.policyIDs.compactMap { state.policies[$0]?.rules } + [token.identityRules])
        if token.accessorID == BuiltInACL.anonymousAccessorID, rules.rules.isEmpty, rules.acl == nil {
            return Authorizer(identity: .anonymous)
        }
        return Authorizer(identity: .token(accessorID: token.accessorID, rules: rules))
    }

    /// Every policy, the built-in `global-management` first.
    var policies: [ACLPolicy] { [BuiltInACL.globalManagementPolicy] + state.policies.values.sorted { $0.name < $1.name } }

    func policy(id: String) -> ACLPolicy? {
        id == BuiltInACL.globalManagementPolicyID ? BuiltInACL.globalManagementPolicy : state.policies[id]
    }

    func policy(named name: String) -> ACLPolicy? { policies.first { $0.name == name } }

    /// Creates a policy, or updates the one with `id`.
    func savePolicy(id: String?, name: String, description: String, rulesText: String, rules: ACLRules) async throws(StorageError) -> ACLPolicy {
        let index = state.index + 1
        let existing = id.flatMap { state.policies[$0] }
        let policy = ACLPolicy(
            id: existing?.id ?? UUID().uuidString.lowercased(), name: name, description: description, rulesText: rulesText,
            rules: rules, createIndex: existing?.createIndex ?? index, modifyIndex: index)
        try await commit([.policy(policy.id, policy)])
        return policy
    }

    func deletePolicy(id: String) async throws(StorageError) -> Bool {
        guard state.policies[id] != nil else { return false }
        try await commit([.policy(id, nil)])
        return true
    }

    /// Every live token: the bootstrap token, the anonymous one, then the rest by creation.
    var tokens: [ACLToken] {
        let now = Date()
        let builtIn = [bootstrapToken.map(BuiltInACL.bootstrapToken(secret:)), anonymousToken].compactMap { $0 }
        return builtIn
            + state.tokens.values.filter { $0.secretID != BuiltInACL.anonymousSecret && !$0.isExpired(at: now) }.sorted { $0.createIndex < $1.createIndex }
    }

    /// The anonymous token as an operator left it (its policies can be changed), or as built in.
    private var anonymousToken: ACLToken { state.tokens[BuiltInACL.anonymousSecret] ?? BuiltInACL.anonymousToken }

    func token(accessorID: String) -> ACLToken? { tokens.first { $0.accessorID == accessorID } }

    func token(secret: String) -> ACLToken? {
        if let bootstrapToken, secret == bootstrapToken { return BuiltInACL.bootstrapToken(secret: bootstrapToken) }
        if secret == BuiltInACL.anonymousSecret { return anonymousToken }
        guard let token = state.tokens[secret], !token.isExpired(at: Date()) else { return nil }
        return token
    }

    func saveToken(_ token: ACLToken) async throws(StorageError) -> ACLToken {
        var saved = token
        let index = state.index + 1
        let existing = self.token(accessorID: token.accessorID)
        saved.createIndex = existing?.createIndex ?? index
        saved.modifyIndex = index
        try await commit([.token(saved.secretID, saved)])
        return saved
    }

    func deleteToken(accessorID: String) async throws(StorageError) -> Bool {
        guard let token = token(accessorID: accessorID), state.tokens[token.secretID] != nil else { return false }
        try await commit([.token(token.secretID, nil)])
        return true
    }
}
