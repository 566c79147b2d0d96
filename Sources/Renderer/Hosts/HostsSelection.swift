public import BundleFormat
package import ConfigParsing
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The part of sharded hosts data an output wants (`hosts:` on a render output): services by
/// name or glob, the instances carrying a tag, and node names. A node then holds only that;
/// with exact names only, it also reads only the shards those names hash to.
public struct HostsSelection: Sendable, Hashable {
    /// Service names or globs (`*`, `?`, `[...]`), lower case as DNS has them.
    public var services: [String] = []
    /// Tags: every instance carrying one is selected, whatever its service.
    public var tags: [String] = []
    /// The `node.node.DOMAIN` names too.
    public var nodes = false

    public init(services: [String] = [], tags: [String] = [], nodes: Bool = false) {
        self.services = services.map { $0.lowercased() }
        self.tags = tags.map { $0.lowercased() }
        self.nodes = nodes
    }

    package init(_ node: ConfigNode) throws(ConfigError) {
        let keys = try node.mapping()
        if let value = keys.optional("services") { services = try value.strings().map { $0.lowercased() } }
        if let value = keys.optional("tags") { tags = try value.strings().map { $0.lowercased() } }
        if let value = keys.optional("nodes") { nodes = try value.bool() }
        try keys.finish()
        guard !services.isEmpty || !tags.isEmpty || nodes else {
            throw node.error("select something: services (names or globs), tags, or nodes: true")
        }
    }

    /// What of `entity` is selected, or nil for none of it.
    public func select(_ entity: HostsEntity) -> HostsEntity? {
        switch entity.kind {
        case .node:
            return nodes ? entity : nil
        case .service:
            if services.contains(where: { Self.matches($0, entity.name) }) { return entity }
            guard !tags.isEmpty else { return nil }
            var selected = entity
            selected.addresses = entity.addresses.filter { address in address.tags.contains { tags.contains($0) } }
            return selected.addresses.isEmpty ? nil : selected
        }
    }

    /// The shards that can hold something selected, out of `count`; nil when any shard can
    /// (a glob, a tag, or the node names).
    public func shards(of count: Int) -> Set<Int>? {
        guard tags.isEmpty, !nodes, !services.contains(where: Self.isGlob) else { return nil }
        return Set(services.map { HostsEntity.shard(kind: .service, name: $0, count: count) })
    }

    /// What several outputs of one key select together; nil (everything) when one takes all.
    public static func union(_ selections: [HostsSelection?]) -> HostsSelection? {
        var union = HostsSelection()
        for selection in selections {
            guard let selection else { return nil }
            union.services += selection.services.filter { !union.services.contains($0) }
            union.tags += selection.tags.filter { !union.tags.contains($0) }
            union.nodes = union.nodes || selection.nodes
        }
        return union
    }

    static func isGlob(_ pattern: String) -> Bool { pattern.contains { "*?[".contains($0) } }

    static func matches(_ pattern: String, _ name: String) -> Bool {
        isGlob(pattern) ? fnmatch(pattern, name, 0) == 0 : pattern == name
    }
}
