import ConfigParsing

/// `mappings[].rollout`: a new commit goes first to canary nodes only, and to the fleet once
/// enough of them delivered it with checks and commands passing, for `bake`.
public struct RolloutConfig: Sendable, Equatable {
    public enum OnFailure: String, Sendable, CaseIterable { case freeze }

    /// Globs on node names (`*`, `?`); a report counts for the canary stage when its node
    /// matches one and its renderer runs with `canary: true`.
    public var canaryNodes: [String]
    /// How many canary nodes must have delivered the commit before the bake starts.
    public var minNodes = 1
    /// How long the canary nodes must stay healthy on the commit before it is promoted.
    public var bake: Duration = .seconds(60)
    public var onFailure = OnFailure.freeze

    public init(canaryNodes: [String], minNodes: Int = 1, bake: Duration = .seconds(60)) {
        self.canaryNodes = canaryNodes
        self.minNodes = minNodes
        self.bake = bake
    }

    init(_ node: ConfigNode) throws(ConfigError) {
        let keys = try node.mapping()
        let canaryNode = try keys.required("canary")
        let canary = try canaryNode.mapping()
        let nodesNode = try canary.required("nodes")
        canaryNodes = try nodesNode.strings(allowSingle: true)
        guard !canaryNodes.isEmpty, canaryNodes.allSatisfy({ !$0.isEmpty && !$0.contains("/") }) else {
            throw nodesNode.error("list at least one node name glob (no '/')")
        }
        if let value = canary.optional("min_nodes") {
            minNodes = try value.int()
            guard minNodes >= 1 else { throw value.error("must be at least 1") }
        }
        if let value = canary.optional("bake") {
            bake = try value.duration()
            guard bake >= .zero, bake <= .seconds(7 * 24 * 3600) else { throw value.error("must be between 0s and 7 days") }
        }
        try canary.finish()
        if let value = keys.optional("on_failure") { onFailure = try value.oneOf(OnFailure.self) }
        try keys.finish()
    }

    /// Whether `node` is one of the canary nodes.
    public func isCanary(_ node: String) -> Bool {
        canaryNodes.contains { GlobPattern($0).matches(node) }
    }
}
