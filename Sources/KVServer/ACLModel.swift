/// An ACL policy: named rules.
struct ACLPolicy: Codable, Sendable, Hashable {
    var id: String
    var name: String
    var description: String
    var rulesText: String
    var rules: ACLRules
    var createIndex: UInt64
    var modifyIndex: UInt64
}

/// An ACL token: its secret (what clients send), a public accessor ID, and its policies.
struct ACLToken: Codable, Sendable, Hashable {
    var accessorID: String
    var secretID: String
    var description: String
    var policyIDs: [String]
    /// The bootstrap token: allowed everything.
    var isManagement: Bool
    var createIndex: UInt64
    var modifyIndex: UInt64
}

/// What one request's token may do. With ACLs off, everything is allowed.
struct Authorizer: Sendable {
    enum Identity: Sendable {
        case aclsDisabled
        case management(accessorID: String)
        case token(accessorID: String, rules: ACLRules)
        case anonymous
    }

    let identity: Identity

    static let unrestricted = Authorizer(identity: .aclsDisabled)

    var isManagement: Bool {
        switch identity {
        case .aclsDisabled, .management: true
        case .token, .anonymous: false
        }
    }

    func allows(_ resource: ACLRules.Resource, _ name: String, _ needed: ACLRules.Access) -> Bool {
        switch identity {
        case .aclsDisabled, .management: return true
        case .anonymous: return false
        case .token(_, let rules):
            guard let granted = rules.access(to: resource, name) else { return false }
            if granted == .deny { return false }
            return granted >= needed
        }
    }

    /// Writing every key under `prefix` (a recursive delete): the prefix must be writable and no
    /// more specific rule under it may withhold write.
    func allowsWriteOfPrefix(_ prefix: String) -> Bool {
        switch identity {
        case .aclsDisabled, .management: return true
        case .anonymous: return false
        case .token(_, let rules):
            guard allows(.key, prefix, .write) else { return false }
            return rules.rules(under: prefix, of: .key).allSatisfy { $0.access == .write }
        }
    }

    var canManageACLs: Bool {
        switch identity {
        case .aclsDisabled, .management: return true
        case .anonymous: return false
        case .token(_, let rules): return rules.acl == .write
        }
    }

    /// The words Consul uses for a denial.
    func denial(_ resource: ACLRules.Resource, _ name: String, _ needed: ACLRules.Access) -> String {
        let who: String
        switch identity {
        case .aclsDisabled, .management: who = "token"
        case .anonymous: who = "anonymous token"
        case .token(let accessorID, _): who = "token with AccessorID '\(accessorID)'"
        }
        return "Permission denied: \(who) lacks permission '\(resource.rawValue):\(needed.rawValue)' on \(name.debugDescription)"
    }
}
