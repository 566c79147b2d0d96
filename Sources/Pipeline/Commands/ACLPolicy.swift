import Foundation
import BundleFormat

/// The ACL policies a mapping needs: its writer may write only under its prefix; a renderer
/// may only read it. Printed by `git2kv policy` as Consul HCL and JSON, or as the etcdctl
/// commands that create the etcd role and user.
public struct ACLPolicy: Sendable, Equatable {
    public enum Access: String, Sendable { case read, write, deny }

    /// A rule beyond the mapping's own prefixes: an exact key (`key`) or a `key_prefix`.
    public struct Rule: Sendable, Equatable {
        public var path: String
        public var isPrefix: Bool
        public var access: Access
    }

    /// The node name in the report rule when `policy` is not given one.
    public static let nodePlaceholder = "NODE"

    public var name: String
    /// Consul `key_prefix` rules: a mapping's prefix with its `/`, or for a tag pattern the part
    /// of the prefix before its first wildcard (Consul rules have no globs).
    public let keyPrefixes: [String]
    public let access: Access
    /// With `ha.enabled`, the writer of a repo's first mapping creates the leader's session.
    /// The other mappings' writers only lock their guard key (`<prefix>/.git2kv/leader`) with
    /// that session, which needs key write on their own prefix and nothing more.
    public var createsSessions = false
    /// Staged rollouts: the writer reads the delivery reports; fleet renderers are denied the
    /// canary values; each node may write its own report and nothing else.
    public var rules: [Rule] = []
    public var role = ""

    public static func policies(for config: DaemonConfig) -> [ACLPolicy] {
        config.repos.flatMap { repo in
            repo.mappings.enumerated().flatMap { position, mapping -> [ACLPolicy] in
                let rules = (repo.branches + repo.tags).map { Self.keyPrefix(mapping.prefix(for: $0)) }
                let unique = rules.reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
                let base = "git2kv-\(repo.name)-" + Self.slug(mapping.prefix)
                var writer = ACLPolicy(name: base + "-writer", keyPrefixes: unique, access: .write)
                writer.role = "git2kv serve/sync for this mapping"
                writer.createsSessions = config.serve.highAvailability && position == 0
                var reader = ACLPolicy(name: base + "-reader", keyPrefixes: unique, access: .read)
                reader.role = "git2kv render on nodes"
                guard mapping.rollout != nil else { return [writer, reader] }
                writer.rules = [Rule(path: DeliveryReport.directory(prefix: config.reportsPrefix), isPrefix: true, access: .read)]
                var canaryReader = reader
                canaryReader.name = base + "-canary-reader"
                canaryReader.role = "git2kv render on canary nodes (`canary: true`)"
                reader.role = "git2kv render on fleet nodes: the canary values are denied"
                reader.rules = unique.map { Rule(path: $0 + CanaryPlacement.directory, isPrefix: true, access: .deny) }
                return [writer, reader, canaryReader]
            }
        }
    }

    /// What every node's renderer needs beside its readers: write on its own delivery report.
    public static func nodeReport(_ config: DaemonConfig, node: String) -> ACLPolicy {
        var policy = ACLPolicy(name: "git2kv-report-\(Self.slug(node))", keyPrefixes: [], access: .write)
        policy.role = "git2kv render on node \(node): its delivery report only"
        policy.rules = [Rule(path: DeliveryReport.key(prefix: config.reportsPrefix, node: node), isPrefix: false, access: .write)]
        return policy
    }


    /// Consul's HCL rules.
    public var hcl: String {
        var rules = keyPrefixes.map { "key_prefix \"\($0)\" {\n  policy = \"\(access.rawValue)\"\n}" }
        rules += self.rules.map { "\($0.isPrefix ? "key_prefix" : "key") \"\($0.path)\" {\n  policy = \"\($0.access.rawValue)\"\n}" }
        if createsSessions { rules.append("session_prefix \"\" {\n  policy = \"write\"\n}") }
        return rules.joined(separator: "\n")
    }

    /// The same rules in Consul's JSON form.
    public var json: String {
        var rules: [String: [String: String]] = [:]
        var keys: [String: [String: String]] = [:]
        for prefix in keyPrefixes { rules[prefix] = ["policy": access.rawValue] }
        for rule in self.rules {
            if rule.isPrefix { rules[rule.path] = ["policy": rule.access.rawValue] } else { keys[rule.path] = ["policy": rule.access.rawValue] }
        }
        var object = ["key_prefix": rules]
        if !keys.isEmpty { object["key"] = keys }
        if createsSessions { object["session_prefix"] = ["": ["policy": "write"]] }
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]) else {
            return "{}"
        }
        return String(decoding: data, as: UTF8.self)
    }

    /// etcdctl commands creating a role with this policy's key ranges and a user holding it.
    /// Leases (sessions) need no permission in etcd. The password stays a shell variable.
    public var etcdCommands: String {
        let permission = access == .write ? "readwrite" : "read"
        if keyPrefixes.isEmpty, rules.isEmpty { return "# \(name): nothing to grant" }
        var lines = ["etcdctl role add \(name)"]
        lines += keyPrefixes.map { "etcdctl role grant-permission --prefix=true \(name) \(permission) '\($0)'" }
        for rule in rules {
            switch rule.access {
            case .deny: lines.append("# etcd has no deny: this role can read '\(rule.path)' too (a fleet renderer never watches it)")
            case .read, .write:
                lines.append("etcdctl role grant-permission\(rule.isPrefix ? " --prefix=true" : "") \(name) \(rule.access == .write ? "readwrite" : "read") '\(rule.path)'")
            }
        }
        lines += [
            "etcdctl user add \(name) --interactive=false --new-user-password=\"$PASSWORD\"",
            "etcdctl user grant-role \(name) \(name)",
            "# its token_file then holds: \(name):$PASSWORD",
        ]
        return lines.joined(separator: "\n")
    }

    private static func keyPrefix(_ prefix: String) -> String {
        guard let wildcard = prefix.firstIndex(where: { $0 == "*" || $0 == "?" }) else { return prefix + "/" }
        return String(prefix[..<wildcard])
    }

    private static func slug(_ prefix: String) -> String {
        String(prefix.map { $0.isLetter || $0.isNumber ? $0 : "-" })
    }
}
