import Foundation

extension ServerStore {
    var aclsEnabled: Bool { bootstrapToken != nil }

    /// The authorizer for a request's token; nil when ACLs are on and the token is unknown.
    func authorizer(for secret: String?) -> Authorizer? {
        guard let bootstrapToken else { return .unrestricted }
        guard let secret, !secret.isEmpty else { return Authorizer(identity: .anonymous) }
        if secret == bootstrapToken { return Authorizer(identity: .management(accessorID: "bootstrap")) }
        guard let token = state.tokens[secret] else { return nil }
        if token.isManagement { return Authorizer(identity: .management(accessorID: token.accessorID)) }
        let rules = ACLRules.merged(token.policyIDs.compactMap { state.policies[$0]?.rules })
        return Authorizer(identity: .token(accessorID: token.accessorID, rules: rules))
    }

    var policies: [ACLPolicy] { state.policies.values.sorted { $0.name < $1.name } }

    func policy(id: String) -> ACLPolicy? { state.policies[id] }

    func policy(named name: String) -> ACLPolicy? { state.policies.values.first { $0.name == name } }

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

    var tokens: [ACLToken] { state.tokens.values.sorted { $0.createIndex < $1.createIndex } }

    func token(accessorID: String) -> ACLToken? { state.tokens.values.first { $0.accessorID == accessorID } }

    func token(secret: String) -> ACLToken? { state.tokens[secret] }

    func saveToken(accessorID: String?, secretID: String?, description: String, policyIDs: [String]) async throws(StorageError) -> ACLToken {
        let index = state.index + 1
        let existing = accessorID.flatMap { token(accessorID: $0) }
        let saved = ACLToken(
            accessorID: existing?.accessorID ?? accessorID ?? UUID().uuidString.lowercased(),
            secretID: existing?.secretID ?? secretID ?? UUID().uuidString.lowercased(), description: description,
            policyIDs: policyIDs, isManagement: false, createIndex: existing?.createIndex ?? index, modifyIndex: index)
        try await commit([.token(saved.secretID, saved)])
        return saved
    }

    func deleteToken(accessorID: String) async throws(StorageError) -> Bool {
        guard let token = token(accessorID: accessorID) else { return false }
        try await commit([.token(token.secretID, nil)])
        return true
    }
}
