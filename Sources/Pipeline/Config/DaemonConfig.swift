import Foundation
public import ConfigParsing
import BundleFormat

/// The configuration of `serve`, `sync`, `status`, `history` and `policy` (see docs/configuration.md).
public struct DaemonConfig: Sendable, Equatable {
    /// The file it was read from, for messages.
    public var file: String
    public var kv = KVConfig()
    /// `http`, `limits` and `ha`: how `serve` listens, paces its writes and elects leaders.
    public var serve = ServeSettings()
    /// `metrics`: DogStatsD metrics beside /metrics.
    public var metrics = MetricsConfig()
    /// `reports_prefix`: where renderers write their delivery reports (read by staged rollouts
    /// and `status --rollout`).
    public var reportsPrefix = DeliveryReport.defaultPrefix
    /// Where git mirrors and local sync records live.
    public var stateDirectory: String
    public var repos: [RepoConfig]
    /// Things in the file that work but deserve attention (e.g. a git2consul hook without a secret).
    public var warnings: [String] = []

    public init(file: String, stateDirectory: String, repos: [RepoConfig]) {
        self.file = file
        self.stateDirectory = stateDirectory
        self.repos = repos
    }

    /// Reads a git2kv YAML file, or a git2consul `config.json` (recognised by its `.json` name).
    public static func load(file: String) throws(ConfigError) -> DaemonConfig {
        let text = try ConfigNode.readText(file: file)
        if file.hasSuffix(".json") { return try Git2ConsulConfig.parse(text, file: file) }
        return try parse(text, file: file)
    }

    public static func parse(_ text: String, file: String) throws(ConfigError) -> DaemonConfig {
        let root = try ConfigNode.parse(text, file: file)
        let keys = try root.mapping()
        var config = DaemonConfig(file: file, stateDirectory: StateDirectory.defaultPath, repos: [])
        if let value = keys.optional("kv") { config.kv = try KVConfig(value) }
        if let value = keys.optional("http") { try config.serve.readHTTP(value) }
        if let value = keys.optional("limits") { try config.serve.readLimits(value) }
        if let value = keys.optional("ha") { try config.serve.readHA(value) }
        if let value = keys.optional("state_dir") { config.stateDirectory = try value.nonEmptyString() }
        if let value = keys.optional("metrics") { config.metrics = try MetricsConfig(value, allowsEvents: false) }
        if let value = keys.optional("reports_prefix") { config.reportsPrefix = try KeyPathRules.checkedPrefix(value) }
        for repoNode in try keys.required("repos").list() {
            try config.add(RepoConfig(repoNode), declaredAt: repoNode)
        }
        try keys.finish()
        try config.checkPrefixesAreDisjoint()
        return config
    }

    /// Adds a repo, refusing a second one of the same name.
    mutating func add(_ repo: RepoConfig, declaredAt node: ConfigNode) throws(ConfigError) {
        if repos.contains(where: { $0.name == repo.name }) {
            throw node.error("a second repo is named \(repo.name); names must be unique")
        }
        repos.append(repo)
    }

    /// Two mappings writing into the same subtree would delete each other's keys. Checked on
    /// the prefixes as they are for every branch (and tag pattern).
    func checkPrefixesAreDisjoint() throws(ConfigError) {
        let all = repos.flatMap { repo in
            repo.mappings.flatMap { mapping in
                Set((repo.branches + repo.tags).map { mapping.prefix(for: $0) }).map { (repo, mapping, $0) }
            }
        }
        for (position, (repo, mapping, prefix)) in all.enumerated() {
            for (otherRepo, other, otherPrefix) in all[(position + 1)...] where KeyPathRules.overlap(prefix, otherPrefix) {
                throw ConfigError(
                    file: file, line: nil,
                    message: "prefix \(otherPrefix) (repo \(otherRepo.name), \(other.origin)) overlaps prefix \(prefix) (repo \(repo.name), \(mapping.origin)): each mapping needs a subtree of its own")
            }
        }
    }
}
