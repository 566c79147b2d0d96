public import ConfigParsing
import BundleFormat

/// How `git2kv hosts` stores the hosts data.
public enum HostsLayout: String, Sendable, Equatable {
    case sharded
    case bundle
}

/// The configuration of `git2kv publish` and `git2kv hosts` (see docs/configuration.md).
/// `publish` uses `kv`, `min_lines` and `stop_key`; `hosts` all of it.
public struct PublisherConfig: Sendable, Equatable {
    public var file: String
    /// Where the bundle is written, with a token that may write its key (and the lock).
    public var kv = KVConfig()
    /// Where the service catalog is read (`hosts`); the kv settings when absent.
    public var catalog: KVConfig?
    /// The bundle key (`hosts`; `publish` takes `--key`).
    public var key: String?
    /// The name of the hosts file inside the bundle.
    public var fileName = "hosts"
    /// Refuse to publish a file with fewer lines (a catalog outage must not empty every node's
    /// hosts file): one number for every file, or a number per file name.
    public var minLines = MinLinesRule()
    /// While this key exists in KV, nothing is published (the kill switch).
    public var stopKey: String?
    /// The DNS domain of the generated names (`web.service.consul`).
    public var domain = "consul"
    /// Catalog, health and stop-key changes are watched and seen at once; this is how long a
    /// wait lasts before the file is rebuilt anyway (a safety net; Consul caps waits at 10 minutes).
    public var refresh: Duration = .seconds(600)
    /// The lock that makes one `hosts` generator the writer; `<key>.lock` when absent.
    public var lockKey: String?
    /// `hosts`: how the data is stored. `sharded` (the default): a small manifest and shards a
    /// node reads only when they change; `bundle`: one bundle holding the whole file, for
    /// renderers older than sharded hosts data.
    public var layout = HostsLayout.sharded
    /// `hosts`, sharded layout: how many shards the entities are spread over.
    public var shards = 256
    /// A dead generator's lock frees after this (a stopped one releases it at once); the leader
    /// renews every third of it, which is most of an idle generator's requests.
    public var sessionTTL: Duration = .seconds(30)
    public var lockDelay: Duration = .seconds(1)

    public init(file: String) {
        self.file = file
    }

    public var catalogKV: KVConfig { catalog ?? kv }

    public static func load(file: String) throws(ConfigError) -> PublisherConfig {
        try parse(ConfigNode.readText(file: file), file: file)
    }

    public static func parse(_ text: String, file: String) throws(ConfigError) -> PublisherConfig {
        let keys = try ConfigNode.parse(text, file: file).mapping()
        var config = PublisherConfig(file: file)
        if let value = keys.optional("kv") { config.kv = try KVConfig(value) }
        if let value = keys.optional("catalog") { config.catalog = try KVConfig(value) }
        if let value = keys.optional("key") { config.key = try Self.key(value) }
        if let value = keys.optional("file") { config.fileName = try value.nonEmptyString() }
        if let value = keys.optional("min_lines") { config.minLines = try Self.minLines(value) }
        if let value = keys.optional("stop_key") { config.stopKey = try Self.key(value) }
        if let value = keys.optional("domain") { config.domain = try value.nonEmptyString() }
        if let value = keys.optional("refresh") { config.refresh = try value.duration() }
        if let value = keys.optional("layout") {
            guard let layout = HostsLayout(rawValue: try value.string()) else { throw value.error("must be sharded or bundle") }
            config.layout = layout
        }
        if let value = keys.optional("shards") {
            config.shards = try value.int()
            guard (1...HostsManifest.maxShards).contains(config.shards) else { throw value.error("must be between 1 and \(HostsManifest.maxShards)") }
        }
        if let value = keys.optional("lock") {
            let lock = try value.mapping()
            if let key = lock.optional("key") { config.lockKey = try Self.key(key) }
            if let ttl = lock.optional("session_ttl") { config.sessionTTL = try ttl.duration() }
            if let delay = lock.optional("lock_delay") { config.lockDelay = try delay.duration() }
            try lock.finish()
        }
        try keys.finish()
        return config
    }

    private static func minLines(_ node: ConfigNode) throws(ConfigError) -> MinLinesRule {
        if let perFile = try? node.mapping() {
            var rule = MinLinesRule(perFile: [:])
            for name in perFile.keys {
                guard let value = perFile.optional(name) else { throw perFile.owner.error("\(name) needs a number of lines") }
                let lines = try value.int()
                guard lines > 0 else { throw value.error("must be greater than 0") }
                rule.perFile[name] = lines
            }
            guard !rule.perFile.isEmpty else { throw node.error("name at least one file, or give one number for every file") }
            return rule
        }
        let lines = try node.int()
        guard lines > 0 else { throw node.error("must be greater than 0") }
        return MinLinesRule(all: lines)
    }

    static func key(_ node: ConfigNode) throws(ConfigError) -> String {
        let key = try node.nonEmptyString()
        if let problem = KeyPathRules.problem(in: key) { throw node.error("\(key.debugDescription) is not a KV key: it \(problem)") }
        return key
    }
}
