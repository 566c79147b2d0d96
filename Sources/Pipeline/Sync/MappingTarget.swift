import BundleFormat

/// One mapping for one branch (or tag): where it reads in git and where it writes in KV.
public struct MappingTarget: Sendable {
    public let repo: String
    /// The branch or tag name.
    public let reference: String
    public let isTag: Bool
    public let mapping: MappingConfig
    /// The mapping's prefix for this reference, without a trailing `/`.
    public let prefix: String

    public init(repo: String, reference: String, isTag: Bool = false, mapping: MappingConfig) {
        self.repo = repo
        self.reference = reference
        self.isTag = isTag
        self.mapping = mapping
        self.prefix = mapping.prefix(for: reference)
    }

    public var stateKey: String { prefix + "/.git2kv/state" }
    public var chunkPrefix: String { prefix + "/.git2kv/chunks/" }
    public var internalPrefix: String { prefix + "/" + Self.reservedDirectory + "/" }
    /// `P/.git2kv/` holds git2kv's own keys in every layout; nothing from the repository goes there.
    public static let reservedDirectory = ".git2kv"
    /// Present while the prefix is frozen (see FreezeRecord).
    public var freezeKey: String { prefix + "/.git2kv/freeze" }
    /// Locked by the session of the replica that leads this mapping's repository: the election's
    /// own lock on the repo's lead target, a guard key on every other mapping's. Every
    /// transaction of the mapping checks that the leader's session still holds it.
    public var leaderKey: String { prefix + "/.git2kv/leader" }
    /// Where a replica that is not the leader leaves the webhooks it received, for the leader to
    /// act on (it watches this key with a blocking query). Used on the repo's lead target.
    public var syncRequestKey: String { prefix + "/.git2kv/sync-request" }
    /// While a staged rollout holds a commit back from the fleet: its stage (RolloutStage).
    public var rolloutKey: String { prefix + "/.git2kv/rollout" }
    /// The canary values of a staged rollout (and their chunks), one subtree.
    public var canaryPrefix: String { prefix + "/" + CanaryPlacement.directory }
    public func canaryKey(_ bundle: String) -> String { CanaryPlacement.canaryKey(ofBundleKey: bundleKey(bundle)) }
    /// Keys under the prefix that operators and replicas control, which a sync never writes or removes.
    var controlKeys: Set<String> { [freezeKey, leaderKey, syncRequestKey, rolloutKey] }

    /// Whether a key belongs to what a sync neither writes nor compares: control keys and the canary subtree.
    func isControlled(_ key: String) -> Bool { controlKeys.contains(key) || key.hasPrefix(canaryPrefix) }

    public func bundleKey(_ bundle: String) -> String { prefix + "/" + bundle }

    public func chunkKey(_ sha256: String) -> String { chunkPrefix + sha256 }

    /// The bundle name of a key under the prefix, or nil for git2kv's own keys and keys elsewhere.
    public func bundleName(ofKey key: String) -> String? {
        guard key.hasPrefix(prefix + "/"), !key.hasPrefix(internalPrefix) else { return nil }
        return String(key.dropFirst(prefix.count + 1))
    }

    public var description: String { "\(repo)@\(reference) \(mapping.source.isEmpty ? "/" : mapping.source) → \(prefix)" }
}
