import Foundation
public import GitKit
public import Secrets
import ConfigParsing

/// One repository to follow (`repos[]`).
public struct RepoConfig: Sendable, Equatable {
    public var name: String
    public var url: String
    public var branches: [String]
    /// Tag names (globs) synced like branches.
    public var tags: [String] = []
    public var pollInterval: Duration = .seconds(30)
    public var webhook: WebhookConfig?
    public var credentials: GitCredentials = .none
    /// `credentials.ca_file` and `credentials.known_hosts_file`: the CAs an HTTPS remote's
    /// certificate and the keys an SSH remote's host key are checked against.
    public var trust = RemoteTrust()
    public var timeouts = FetchTimeouts()
    /// `fetch_limit`: how often `serve` may fetch this repo, however many webhooks arrive.
    public var fetchLimit = FetchLimit()
    public var mappings: [MappingConfig]

    public init(name: String, url: String, branches: [String], mappings: [MappingConfig]) {
        self.name = name
        self.url = url
        self.branches = branches
        self.mappings = mappings
    }

    init(_ node: ConfigNode) throws(ConfigError) {
        let keys = try node.mapping()
        let nameNode = try keys.required("name")
        name = try nameNode.nonEmptyString()
        guard name.allSatisfy({ $0.isLetter || $0.isNumber || "-_.".contains($0) }) else {
            throw nameNode.error("\(name.debugDescription) may hold only letters, digits, - _ and . (it names a webhook URL and a directory)")
        }
        url = try keys.required("url").nonEmptyString()
        branches = try keys.optional("branches")?.strings(allowSingle: true) ?? ["main"]
        if let value = keys.optional("tags") { tags = try value.strings(allowSingle: true) }
        if let value = keys.optional("poll_interval") {
            pollInterval = try value.duration()
            guard pollInterval >= .seconds(1) else { throw value.error("must be at least 1s") }
        }
        if let value = keys.optional("webhook") { webhook = try WebhookConfig(value) }
        if let value = keys.optional("credentials") { (credentials, trust) = try CredentialsConfig.read(value) }
        if let value = keys.optional("timeouts") { timeouts = try Self.timeouts(value) }
        if let value = keys.optional("fetch_limit") { fetchLimit = try FetchLimit(value, pollInterval: pollInterval) }
        let mappingNodes = try keys.required("mappings").list()
        guard !mappingNodes.isEmpty else { throw node.error("mappings must list at least one mapping") }
        var mappings: [MappingConfig] = []
        for mappingNode in mappingNodes {
            let mapping = try MappingConfig(mappingNode)
            if branches.count + tags.count > 1, !mapping.prefix.contains("{branch}") {
                throw mappingNode.error("prefix \(mapping.prefix) needs {branch}: this repo syncs several branches or tags, which would overwrite each other")
            }
            mappings.append(mapping)
        }
        self.mappings = mappings
        try keys.finish()
    }

    private static func timeouts(_ node: ConfigNode) throws(ConfigError) -> FetchTimeouts {
        let keys = try node.mapping()
        var timeouts = FetchTimeouts()
        for (key, path) in [("connect", \FetchTimeouts.connect), ("inactivity", \.inactivity), ("total", \.total)] {
            guard let value = keys.optional(key) else { continue }
            let duration = try value.duration()
            guard duration >= .seconds(1) else { throw value.error("must be at least 1s") }
            timeouts[keyPath: path] = duration
        }
        try keys.finish()
        return timeouts
    }
}

/// How a repository's pushes are announced (`repos[].webhook`); checked by `serve`.
public struct WebhookConfig: Sendable, Equatable {
    public enum Provider: String, Sendable, CaseIterable { case github, gitlab, bitbucket, gitea, generic }

    public var provider: Provider
    public var secret: SecretSource

    init(_ node: ConfigNode) throws(ConfigError) {
        let keys = try node.mapping()
        provider = try keys.required("provider").oneOf(Provider.self)
        guard let secret = try SecretSetting.read(keys, file: "secret_file", environment: "secret_env") else {
            throw node.error("a webhook needs secret_file or secret_env: unverified webhooks are refused")
        }
        self.secret = secret
        try keys.finish()
    }
}

/// `repos[].credentials`: where the remote's secrets are; never the secrets themselves.
enum CredentialsConfig {
    static func read(_ node: ConfigNode) throws(ConfigError) -> (GitCredentials, RemoteTrust) {
        let keys = try node.mapping()
        let trust = RemoteTrust(
            caFile: try keys.optional("ca_file")?.nonEmptyString(), knownHostsFile: try keys.optional("known_hosts_file")?.nonEmptyString())
        return (try read(keys, node), trust)
    }

    private static func read(_ keys: ConfigMapping, _ node: ConfigNode) throws(ConfigError) -> GitCredentials {
        let username = try keys.optional("username")?.nonEmptyString()
        let password = try SecretSetting.read(keys, file: "password_file", environment: "password_env")
        let token = try SecretSetting.read(keys, file: "token_file", environment: "token_env")
        let sshKey = try keys.optional("ssh_key_file")?.nonEmptyString()
        let sshPublicKey = try keys.optional("ssh_public_key_file")?.nonEmptyString()
        let passphrase = try SecretSetting.read(keys, file: "ssh_passphrase_file", environment: "ssh_passphrase_env")
        let agent = try keys.optional("ssh_agent")?.bool() ?? false
        try keys.finish()
        let kinds = [password != nil, token != nil, sshKey != nil, agent].filter { $0 }.count
        guard kinds <= 1 else { throw node.error("give one of password, token, ssh_key_file or ssh_agent") }
        if let password {
            guard let username else { throw node.error("password_file/password_env needs a username") }
            return .userPassword(username: username, password: password)
        }
        if let token { return .token(token, username: username ?? "x-access-token") }
        if let sshKey {
            return .sshKey(username: username ?? "git", privateKeyPath: sshKey, publicKeyPath: sshPublicKey, passphrase: passphrase)
        }
        if agent { return .sshAgent(username: username ?? "git") }
        return .none
    }
}

/// `repos[].fetch_limit`: bursts of up to `burst` fetches go at once; beyond that, one per `every`.
/// The pushes a waiting fetch covers are coalesced into it, never dropped.
public struct FetchLimit: Sendable, Equatable {
    public var every: Duration = .milliseconds(200)
    public var burst = 10

    public init() {}

    init(_ node: ConfigNode, pollInterval: Duration) throws(ConfigError) {
        let keys = try node.mapping()
        if let value = keys.optional("every") {
            every = try value.duration()
            guard every <= pollInterval else { throw value.error("must not be longer than poll_interval") }
        }
        if let value = keys.optional("burst") {
            burst = try value.int()
            guard burst >= 1 else { throw value.error("must be at least 1") }
        }
        try keys.finish()
    }
}
