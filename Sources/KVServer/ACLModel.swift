import Crypto
import Foundation

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
    // Optional so that tokens saved by earlier versions still load.
    /// After this moment the token no longer exists (Consul's ExpirationTime).
    var expirationTime: Date?
    var local: Bool?
    var serviceIdentities: [ServiceIdentity]?
    var nodeIdentities: [NodeIdentity]?

    struct ServiceIdentity: Codable, Sendable, Hashable {
        var serviceName: String
        var datacenters: [String]?
    }

    struct NodeIdentity: Codable, Sendable, Hashable {
        var nodeName: String
        var datacenter: String
    }

    /// Consul's rule for service and node identity names: lower-case letters, digits, `-` and
    /// `_`, starting and ending with a letter or digit.
    static func isValidIdentityName(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        func plain(_ byte: UInt8) -> Bool { (0x61...0x7a).contains(byte) || (0x30...0x39).contains(byte) }
        guard let first = bytes.first, let last = bytes.last, plain(first), plain(last) else { return false }
        return bytes.allSatisfy { plain($0) || $0 == 0x2d || $0 == 0x5f }
    }

    func isExpired(at now: Date) -> Bool { expirationTime.map { $0 <= now } ?? false }

    /// The rules Consul's templated identities stand for.
    var identityRules: ACLRules {
        var rules: [ACLRules.Rule] = []
        for identity in serviceIdentities ?? [] {
            rules.append(.init(resource: .service, name: identity.serviceName, isPrefix: false, access: .write))
            rules.append(.init(resource: .service, name: identity.serviceName + "-sidecar-proxy", isPrefix: false, access: .write))
            rules.append(.init(resource: .service, name: "", isPrefix: true, access: .read))
            rules.append(.init(resource: .node, name: "", isPrefix: true, access: .read))
        }
        for identity in nodeIdentities ?? [] {
            rules.append(.init(resource: .node, name: identity.nodeName, isPrefix: false, access: .write))
            rules.append(.init(resource: .service, name: "", isPrefix: true, access: .read))
        }
        return ACLRules(rules: rules, acl: nil)
    }
}

/// Consul's built-in ACL objects: the `global-management` policy, and the anonymous token that
/// requests without a token act as (no policies until an operator gives it some).
enum BuiltInACL {
    static let globalManagementPolicyID = "00000000-0000-0000-0000-000000000001"
    static let anonymousAccessorID = "00000000-0000-0000-0000-000000000002"
    static let anonymousSecret = "anonymous"

    static let globalManagementPolicy = ACLPolicy(
        id: globalManagementPolicyID, name: "global-management", description: "Builtin Policy that grants unlimited access",
        rulesText: """
            acl = "write"
            agent_prefix "" { policy = "write" }
            event_prefix "" { policy = "write" }
            key_prefix "" { policy = "write" }
            keyring = "write"
            node_prefix "" { policy = "write" }
            operator = "write"
            query_prefix "" { policy = "write" }
            service_prefix "" { policy = "write", intentions = "write" }
            session_prefix "" { policy = "write" }
            """,
        rules: ACLRules(), createIndex: 1, modifyIndex: 1)

    static let anonymousToken = ACLToken(
        accessorID: anonymousAccessorID, secretID: anonymousSecret, description: "Anonymous Token", policyIDs: [], isManagement: false,
        createIndex: 1, modifyIndex: 1)

    /// The token `--acl-bootstrap-token-file` names: its accessor ID is derived from the secret
    /// (one-way), so it is the same after every restart and reveals nothing of the secret.
    static func bootstrapToken(secret: String) -> ACLToken {
        let digest = Array(SHA256.hash(data: Array("git2kv bootstrap accessor:\(secret)".utf8)).prefix(16))
        let hex = digest.map { String(format: "%02x", $0) }.joined()
        let parts = [hex.prefix(8), hex.dropFirst(8).prefix(4), hex.dropFirst(12).prefix(4), hex.dropFirst(16).prefix(4), hex.dropFirst(20)]
        return ACLToken(
            accessorID: parts.joined(separator: "-"), secretID: secret, description: "Initial Management Token",
            policyIDs: [globalManagementPolicyID], isManagement: true, createIndex: 1, modifyIndex: 1)
    }
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
