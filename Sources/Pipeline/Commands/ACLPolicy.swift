import Foundation

/// The ACL policies a mapping needs: its writer may write only under its prefix; a renderer
/// may only read it. Printed by `git2kv policy` as Consul HCL and JSON, or as the etcdctl
/// commands that create the etcd role and user.
public struct ACLPolicy: Sendable, Equatable {
    public enum Access: String, Sendable { case read, write }

    public let name: String
    /// Consul `key_prefix` rules: a mapping's prefix with its `/`, or for a tag pattern the part
    /// of the prefix before its first wildcard (Consul rules have no globs).
    public let keyPrefixes: [String]
    public let access: Access
    /// With `ha.enabled`, the writer of a repo's first mapping creates the leader's session.
    /// The other mappings' writers only lock their guard key (`<prefix>/.git2kv/leader`) with
    /// that session, which needs key write on their own prefix and nothing more.
    public var createsSessions = false

    public static func policies(for config: DaemonConfig) -> [ACLPolicy] {
        config.repos.flatMap { repo in
            repo.mappings.enumerated().flatMap { position, mapping in
                let rules = (repo.branches + repo.tags).map { Self.keyPrefix(mapping.prefix(for: $0)) }
                let unique = rules.reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
                let base = "git2kv-\(repo.name)-" + Self.slug(mapping.prefix)
                var writer = ACLPolicy(name: base + "-writer", keyPrefixes: unique, access: .write)
                writer.createsSessions = config.serve.highAvailability && position == 0
                return [
                    writer,
                    ACLPolicy(name: base + "-reader", keyPrefixes: unique, access: .read),
                ]
            }
        }
    }

    /// Consul's HCL rules.
    public var hcl: String {
        var rules = keyPrefixes.map { "key_prefix \"\($0)\" {\n  policy = \"\(access.rawValue)\"\n}" }
        if createsSessions { rules.append("session_prefix \"\" {\n  policy = \"write\"\n}") }
        return rules.joined(separator: "\n")
    }

    /// The same rules in Consul's JSON form.
    public var json: String {
        var rules: [String: [String: String]] = [:]
        for prefix in keyPrefixes { rules[prefix] = ["policy": access.rawValue] }
        var object = ["key_prefix": rules]
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
        var lines = ["etcdctl role add \(name)"]
        lines += keyPrefixes.map { "etcdctl role grant-permission --prefix=true \(name) \(permission) '\($0)'" }
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
