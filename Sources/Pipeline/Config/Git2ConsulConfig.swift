import Foundation
import GitKit
import Secrets
import ConfigParsing

/// Reads an unchanged git2consul `config.json` and maps every repo and branch to a `files`
/// layout mapping with git2consul's key names: `[mountpoint/][repo/][branch/]path`.
enum Git2ConsulConfig {
    static func parse(_ text: String, file: String) throws(ConfigError) -> DaemonConfig {
        let root = try ConfigNode.parse(text, file: file)
        let keys = try root.mapping()
        _ = try keys.optional("version")?.string()
        var config = DaemonConfig(file: file, stateDirectory: StateDirectory.defaultPath, repos: [])
        if let value = keys.optional("local_store") { config.stateDirectory = try value.nonEmptyString() + "/git2kv" }
        config.kv = kvFromEnvironment()
        // git2consul ran one instance with a key-only token: HA (which needs session write) is
        // opt-in through the environment, never a silent wait for a lock the token cannot take.
        config.serve.highAvailability = ProcessInfo.processInfo.environment["GIT2KV_HA"].map { ["1", "true", "yes"].contains($0.lowercased()) } ?? false
        for repoNode in try keys.required("repos").list() {
            let repo = try parseRepo(repoNode, warnings: &config.warnings)
            try config.add(repo, declaredAt: repoNode)
        }
        try keys.finish()
        try config.checkPrefixesAreDisjoint()
        return config
    }

    /// git2consul takes Consul's address and token from the environment, as Consul's tools do.
    private static func kvFromEnvironment() -> KVConfig {
        var kv = KVConfig()
        let environment = ProcessInfo.processInfo.environment
        if let address = environment["CONSUL_HTTP_ADDR"], !address.isEmpty {
            kv.address = address.contains("://") ? address : "http://" + address
        }
        if environment["CONSUL_HTTP_TOKEN"] != nil { kv.token = .environment("CONSUL_HTTP_TOKEN") }
        if let tokenFile = environment["CONSUL_HTTP_TOKEN_FILE"], !tokenFile.isEmpty { kv.token = .file(tokenFile) }
        return kv
    }

    private static func parseRepo(_ node: ConfigNode, warnings: inout [String]) throws(ConfigError) -> RepoConfig {
        let keys = try node.mapping()
        let name = try keys.required("name").nonEmptyString()
        let url = try keys.required("url").nonEmptyString()
        let branches = try keys.optional("branches")?.strings(allowSingle: true) ?? ["master"]
        let sourceRoot = try KeyPathRules.normalizedSource(keys.optional("source_root"))
        let mountpoint = try keys.optional("mountpoint")?.string().trimmingCharacters(in: CharacterSet(charactersIn: "/")) ?? ""
        let includeBranchName = try keys.optional("include_branch_name")?.bool() ?? true
        let ignoreRepoName = try keys.optional("ignore_repo_name")?.bool() ?? false
        let expandKeys = try keys.optional("expand_keys")?.bool() ?? false
        let ignoreFileExtension = try keys.optional("ignore_file_extension")?.bool() ?? false
        let supportTags = try keys.optional("support_tags")?.bool() ?? false
        _ = try keys.optional("expand_file_diff")?.bool()
        var credentials = GitCredentials.none
        if let credentialNode = keys.optional("credentials") {
            let fields = try credentialNode.mapping()
            let username = try fields.required("username").nonEmptyString()
            let password = try fields.required("password").nonEmptyString()
            try fields.finish()
            credentials = .userPassword(username: username, password: .value(password))
        }
        var pollInterval = Duration.seconds(60)
        for hookNode in try keys.optional("hooks")?.list() ?? [] {
            let hook = try hookNode.mapping()
            let type = try hook.required("type").nonEmptyString()
            let interval = hook.optional("interval")
            _ = hook.optional("port")
            _ = hook.optional("url")
            _ = hook.optional("local_ip")
            _ = hook.optional("local_port")
            try hook.finish()
            switch type {
            case "polling":
                if let interval {
                    guard let minutes = Double(try interval.string()), minutes > 0 else {
                        throw interval.error("interval is in minutes and must be a positive number")
                    }
                    pollInterval = .milliseconds(Int64(minutes * 60_000))
                }
            case "github", "stash", "bitbucket", "gitlab":
                warnings.append(
                    "\(hookNode.location): git2consul's \(type) hook is not carried over: git2kv refuses unsigned webhooks, so repo \(name) is polled; add a webhook with a secret in a git2kv YAML config")
            default:
                throw hookNode.error("unknown hook type \(type.debugDescription) (git2consul knows polling, github, stash, bitbucket, gitlab)")
            }
        }
        try keys.finish()

        var prefixParts: [String] = []
        if !mountpoint.isEmpty { prefixParts.append(mountpoint) }
        if !ignoreRepoName { prefixParts.append(name) }
        if includeBranchName { prefixParts.append("{branch}") }
        guard !prefixParts.isEmpty else {
            throw node.error("with ignore_repo_name, include_branch_name false and no mountpoint the keys would land at the root of the KV store; git2kv needs a prefix of its own (set a mountpoint)")
        }
        if !includeBranchName, branches.count > 1 || supportTags {
            throw node.error("include_branch_name is false but several branches (or tags) are synced: they would overwrite each other")
        }
        var mapping = MappingConfig(source: sourceRoot, prefix: prefixParts.joined(separator: "/"), layout: .files, origin: node.location)
        if let problem = KeyPathRules.problem(in: mapping.prefix.replacingOccurrences(of: "{branch}", with: "b")) {
            throw node.error("the key prefix \(mapping.prefix) \(problem)")
        }
        mapping.expandKeys = expandKeys
        mapping.ignoreFileExtension = ignoreFileExtension
        var repo = RepoConfig(name: name, url: url, branches: branches, mappings: [mapping])
        repo.tags = supportTags ? ["*"] : []
        repo.pollInterval = pollInterval
        repo.credentials = credentials
        return repo
    }
}
