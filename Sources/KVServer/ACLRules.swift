/// Consul ACL rules: per resource, exact (`key`) and prefix (`key_prefix`) rules with an access
/// level. The most specific rule wins: an exact match, else the longest matching prefix.
struct ACLRules: Codable, Sendable, Hashable {
    enum Resource: String, Codable, Sendable, CaseIterable {
        case key, session, node, service
    }

    enum Access: String, Codable, Sendable, Comparable {
        case deny, read, list, write

        private var rank: Int {
            switch self {
            case .deny: 0
            case .read: 1
            case .list: 2
            case .write: 3
            }
        }

        static func < (lhs: Access, rhs: Access) -> Bool { lhs.rank < rhs.rank }
    }

    struct Rule: Codable, Sendable, Hashable {
        var resource: Resource
        var name: String
        var isPrefix: Bool
        var access: Access
    }

    var rules: [Rule] = []
    /// `acl = "write"` allows managing tokens and policies.
    var acl: Access?

    /// Rules of several policies together: for the same resource and name, deny beats
    /// everything, else the more permissive rule counts.
    static func merged(_ all: [ACLRules]) -> ACLRules {
        var byTarget: [ByteKey: Rule] = [:]
        var acl: Access?
        for rules in all {
            for rule in rules.rules {
                let target = ByteKey("\(rule.resource.rawValue)\(rule.isPrefix ? "_prefix" : "") \(rule.name)")
                if let existing = byTarget[target] {
                    if existing.access == .deny || rule.access == .deny {
                        byTarget[target]?.access = .deny
                    } else {
                        byTarget[target]?.access = max(existing.access, rule.access)
                    }
                } else {
                    byTarget[target] = rule
                }
            }
            if let level = rules.acl {
                acl = (acl == .deny || level == .deny) ? .deny : max(acl ?? level, level)
            }
        }
        return ACLRules(rules: byTarget.keys.sorted { $0.string.sortsBefore($1.string) }.compactMap { byTarget[$0] }, acl: acl)
    }

    /// The access the most specific rule grants to `name`, nil when no rule matches.
    func access(to resource: Resource, _ name: String) -> Access? {
        var best: Rule?
        for rule in rules where rule.resource == resource {
            if !rule.isPrefix {
                if rule.name.isSameKey(as: name) { return rule.access }
            } else if name.hasKeyPrefix(rule.name), rule.name.utf8.count >= (best?.name.utf8.count ?? -1) {
                best = rule
            }
        }
        return best?.access
    }

    /// Rules for names under `prefix` that are more specific than the prefix itself.
    func rules(under prefix: String, of resource: Resource) -> [Rule] {
        rules.filter { $0.resource == resource && $0.name.hasKeyPrefix(prefix) && !$0.name.isSameKey(as: prefix) }
    }
}
