public import ConfigParsing
import BundleFormat
import Foundation

/// The configuration of `git2kv render` (see docs/configuration.md).
public struct RendererConfig: Sendable, Equatable {
    /// `wait: {min, max}`: a burst of changes renders once, after `min` of quiet and at most
    /// `max` after its first change.
    public struct Wait: Sendable, Equatable {
        public var min: Duration
        public var max: Duration

        public init(min: Duration, max: Duration) {
            self.min = min
            self.max = max
        }

        public static let standard = Wait(min: .seconds(2), max: .seconds(10))
    }

    /// `watch: {wait, stale}`: how each bundle's blocking query is made.
    public struct Watch: Sendable, Equatable {
        /// Longest a blocking query waits: an idle renderer makes one request per bundle per this.
        public var wait: Duration = .seconds(300)
        /// Let any Consul server answer (spreads a fleet's reads over the followers).
        public var stale = false
    }

    /// `report`: where this node says what it delivered (see DeliveryReport); `report: false` turns it off.
    public struct Report: Sendable, Equatable {
        public var enabled = true
        public var prefix = DeliveryReport.defaultPrefix
        /// The node's name in reports (default: the hostname).
        public var node: String?
    }

    public var file: String
    public var kv = KVConfig()
    public var report = Report()
    /// `canary: true`: this node renders a bundle's canary value (`<prefix>/.git2kv/canary/<bundle>`)
    /// while a staged rollout has one, and its reports count for the rollout's canary stage.
    public var canary = false
    /// Where the delivery state (`render-state.json`) lives.
    public var stateDirectory: String
    public var wait = Wait.standard
    public var watch = Watch()
    /// Environment variables templates may read as `node.env.NAME`; no others are exposed.
    public var environmentAllowlist: [String] = []
    /// `listen`: serve /metrics and /health on this HOST:PORT (also `--listen`).
    public var listen: String?
    /// `metrics`: DogStatsD metrics and delivery events, beside /metrics.
    public var metrics = MetricsConfig()
    public var outputs: [OutputConfig]

    public init(file: String, stateDirectory: String, outputs: [OutputConfig]) {
        self.file = file
        self.stateDirectory = stateDirectory
        self.outputs = outputs
    }

    /// The bundle keys to watch, each once, in the order outputs name them.
    public var bundleKeys: [String] {
        var seen: Set<String> = []
        return outputs.map(\.bundle).filter { seen.insert($0).inserted }
    }

    /// Per bundle key, what its outputs select of sharded hosts data together (nil: all of it).
    public var hostsSelections: [String: HostsSelection?] {
        Dictionary(grouping: outputs, by: \.bundle).mapValues { HostsSelection.union($0.map(\.hosts)) }
    }

    public static func load(file: String) throws(ConfigError) -> RendererConfig {
        try parse(ConfigNode.readText(file: file), file: file)
    }

    public static func parse(_ text: String, file: String) throws(ConfigError) -> RendererConfig {
        let root = try ConfigNode.parse(text, file: file)
        let keys = try root.mapping()
        var config = RendererConfig(file: file, stateDirectory: StateDirectory.defaultPath, outputs: [])
        if let value = keys.optional("kv") { config.kv = try KVConfig(value) }
        if let value = keys.optional("state_dir") { config.stateDirectory = try value.nonEmptyString() }
        if let value = keys.optional("wait") { config.wait = try Self.wait(value) }
        if let value = keys.optional("watch") { config.watch = try Self.watch(value) }
        if let value = keys.optional("environment") { config.environmentAllowlist = try value.strings() }
        if let value = keys.optional("listen") { config.listen = try value.nonEmptyString() }
        if let value = keys.optional("metrics") { config.metrics = try MetricsConfig(value, allowsEvents: true) }
        if let value = keys.optional("report") { config.report = try Self.report(value) }
        if let value = keys.optional("canary") { config.canary = try value.bool() }
        let outputsNode = try keys.required("outputs")
        for node in try outputsNode.list() {
            let output = try OutputConfig(node)
            if let earlier = config.outputs.first(where: { $0.destination == output.destination }) {
                throw node.error("destination \(output.destination) is already written by the output at \(earlier.origin)")
            }
            config.outputs.append(output)
        }
        guard !config.outputs.isEmpty else { throw outputsNode.error("list at least one output") }
        try keys.finish()
        return config
    }

    private static func wait(_ node: ConfigNode) throws(ConfigError) -> Wait {
        let keys = try node.mapping()
        var wait = Wait.standard
        if let value = keys.optional("min") { wait.min = try value.duration() }
        if let value = keys.optional("max") { wait.max = try value.duration() } else if keys.keys.contains("min") { wait.max = wait.min * 4 }
        try keys.finish()
        guard wait.max >= wait.min else { throw node.error("max must not be shorter than min") }
        return wait
    }

    private static func report(_ node: ConfigNode) throws(ConfigError) -> Report {
        var report = Report()
        if let enabled = try? node.bool() {
            report.enabled = enabled
            return report
        }
        let keys = try node.mapping()
        if let value = keys.optional("prefix") { report.prefix = try KeyPathRules.checkedPrefix(value) }
        if let value = keys.optional("node") {
            let name = try value.nonEmptyString()
            guard !name.contains("/"), name != ".", name != "..", name.trimmingCharacters(in: .whitespaces) == name else {
                throw value.error("a node name is one key segment: no '/', no leading or trailing spaces")
            }
            report.node = name
        }
        try keys.finish()
        return report
    }

    private static func watch(_ node: ConfigNode) throws(ConfigError) -> Watch {
        let keys = try node.mapping()
        var watch = Watch()
        if let value = keys.optional("wait") {
            watch.wait = try value.duration()
            guard watch.wait >= .seconds(1) else { throw value.error("must be at least 1s") }
        }
        if let value = keys.optional("stale") { watch.stale = try value.bool() }
        try keys.finish()
        return watch
    }
}
