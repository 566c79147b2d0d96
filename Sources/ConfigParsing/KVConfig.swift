public import KV
public import Secrets

/// Where the KV store is and how to reach it (`kv:` in both configs).
public struct KVConfig: Sendable, Equatable {
    public enum Backend: String, Sendable, CaseIterable { case consul, etcd }

    public var backend: Backend = .consul
    public var address = "http://127.0.0.1:8500"
    /// etcd only: every member's client URL, tried in turn when one is down or has no leader.
    /// Empty means just `address`.
    public var endpoints: [String] = []
    /// The token used when a mapping has none of its own. For etcd it reads `USER:PASSWORD`.
    public var token: SecretSource?
    public var datacenter: String?
    public var tls = KVTLSConfiguration()
    public var requestTimeout: Duration = .seconds(30)

    public init() {}

    package init(_ node: ConfigNode) throws(ConfigError) {
        let keys = try node.mapping()
        if let value = keys.optional("backend") { backend = try value.oneOf(Backend.self) }
        if backend == .etcd { address = "http://127.0.0.1:2379" }
        if let value = keys.optional("address") { address = try KVConfig.checkedAddress(value) }
        if let value = keys.optional("endpoints") {
            guard backend == .etcd else { throw value.error("endpoints lists etcd members; a Consul client talks to its local agent at address") }
            var checked: [String] = []
            for item in try value.list(allowSingle: true) { checked.append(try KVConfig.checkedAddress(item)) }
            guard !checked.isEmpty else { throw value.error("endpoints needs at least one URL") }
            endpoints = checked
            if keys.optional("address") == nil { address = checked[0] }
        }
        token = try SecretSetting.read(keys, file: "token_file", environment: "token_env")
        if let value = keys.optional("datacenter") {
            guard backend == .consul else { throw value.error("datacenter is a Consul setting; etcd has none") }
            datacenter = try value.nonEmptyString()
        }
        tls.caFile = try keys.optional("ca_file")?.nonEmptyString()
        tls.certificateFile = try keys.optional("cert_file")?.nonEmptyString()
        tls.keyFile = try keys.optional("key_file")?.nonEmptyString()
        if (tls.certificateFile == nil) != (tls.keyFile == nil) {
            throw node.error("cert_file and key_file go together (a client certificate needs its key)")
        }
        if let value = keys.optional("timeout") { requestTimeout = try value.duration() }
        try keys.finish()
    }

    /// Where requests go: the etcd members, or the one address.
    public var memberAddresses: [String] { endpoints.isEmpty ? [address] : endpoints }

    private static func checkedAddress(_ node: ConfigNode) throws(ConfigError) -> String {
        let address = try node.nonEmptyString()
        guard address.hasPrefix("http://") || address.hasPrefix("https://") else {
            throw node.error("\(address.debugDescription) must start with http:// or https://")
        }
        return address.hasSuffix("/") ? String(address.dropLast()) : address
    }
}

/// A secret named by a file or an environment variable key, never by its value.
package enum SecretSetting {
    package static func read(_ keys: ConfigMapping, file: String, environment: String) throws(ConfigError) -> SecretSource? {
        let path = try keys.optional(file)?.nonEmptyString()
        let variable = try keys.optional(environment)?.nonEmptyString()
        switch (path, variable) {
        case (let path?, nil): return .file(path)
        case (nil, let variable?): return .environment(variable)
        case (nil, nil): return nil
        case (.some, .some): throw keys.owner.error("give either \(file) or \(environment), not both")
        }
    }
}
