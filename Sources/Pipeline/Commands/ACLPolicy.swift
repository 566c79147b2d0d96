import Foundation

/// The Consul ACL policies a mapping needs: its writer may write only under its prefix; a
/// renderer may only read it. Printed by `git2kv policy` in HCL and JSON.
public struct ACLPolicy: Sendable, Equatable {
    public enum Access: String, Sendable { case read, write }

    public let name: String
    public let prefixes: [String]
    public let access: Access

    public static func policies(for config: DaemonConfig) -> [ACLPolicy] {
        config.repos.flatMap { repo in
            repo.mappings.flatMap { mapping in
                let prefixes = (repo.branches + repo.tags).map { mapping.prefix(for: $0) }
                let unique = prefixes.reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
                let base = "git2kv-\(repo.name)-" + Self.slug(mapping.prefix)
                return [
                    ACLPolicy(name: base + "-writer", prefixes: unique, access: .write),
                    ACLPolicy(name: base + "-reader", prefixes: unique, access: .read),
                ]
            }
        }
    }

    /// Consul's HCL rules.
    public var hcl: String {
        prefixes.map { "key_prefix \"\($0)/\" {\n  policy = \"\(access.rawValue)\"\n}" }.joined(separator: "\n")
    }

    /// The same rules in Consul's JSON form.
    public var json: String {
        var rules: [String: [String: String]] = [:]
        for prefix in prefixes { rules[prefix + "/"] = ["policy": access.rawValue] }
        let object = ["key_prefix": rules]
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]) else {
            return "{}"
        }
        return String(decoding: data, as: UTF8.self)
    }

    private static func slug(_ prefix: String) -> String {
        String(prefix.map { $0.isLetter || $0.isNumber ? $0 : "-" })
    }
}
