import Crypto
import Foundation
public import Secrets
import ConfigParsing

/// One subtree of a repository written under one KV prefix (`repos[].mappings[]`).
public struct MappingConfig: Sendable, Equatable {
    public enum Layout: String, Sendable, CaseIterable { case bundle, files }
    public enum BundleBy: String, Sendable, CaseIterable { case directory, single }

    /// The subtree of the repository, `/`-separated, "" for the whole repository.
    public var source: String
    /// The KV prefix; `{branch}` is replaced by the branch (or tag) name.
    public var prefix: String
    public var layout: Layout = .bundle
    public var bundleBy: BundleBy = .directory
    /// The mapping's own KV token (falls back to `kv.token_file`).
    public var token: SecretSource?
    /// Globs on paths relative to the source; empty means everything.
    public var include: [String] = []
    public var exclude: [String] = []
    public var validation = ValidationConfig()
    /// `files` layout: JSON, YAML and .properties files become one key per leaf.
    public var expandKeys = false
    /// `files` layout: key names without the file's extension.
    public var ignoreFileExtension = false
    /// A staged rollout: canary nodes first (bundle layout only).
    public var rollout: RolloutConfig?
    /// Where in the file the mapping was declared, for messages.
    public var origin: String

    public init(source: String, prefix: String, layout: Layout = .bundle, origin: String = "") {
        self.source = source
        self.prefix = prefix
        self.layout = layout
        self.origin = origin
    }

    init(_ node: ConfigNode) throws(ConfigError) {
        let keys = try node.mapping()
        origin = node.location
        source = try KeyPathRules.normalizedSource(keys.optional("source"))
        let prefixNode = try keys.required("prefix")
        prefix = try KeyPathRules.checkedPrefix(prefixNode)
        if let value = keys.optional("layout") { layout = try value.oneOf(Layout.self) }
        if let value = keys.optional("bundle_by") { bundleBy = try value.oneOf(BundleBy.self) }
        token = try SecretSetting.read(keys, file: "token_file", environment: "token_env")
        if let value = keys.optional("include") { include = try GlobPattern.checked(value) }
        if let value = keys.optional("exclude") { exclude = try GlobPattern.checked(value) }
        if let value = keys.optional("validation") { validation = try ValidationConfig(value) }
        if let value = keys.optional("expand_keys") { expandKeys = try value.bool() }
        if let value = keys.optional("ignore_file_extension") { ignoreFileExtension = try value.bool() }
        if let value = keys.optional("rollout") {
            rollout = try RolloutConfig(value)
            guard layout == .bundle else { throw value.error("a staged rollout needs layout: bundle (canary nodes render bundles)") }
        }
        if layout == .bundle, expandKeys || ignoreFileExtension {
            throw node.error("expand_keys and ignore_file_extension apply to layout: files only")
        }
        try keys.finish()
    }

    /// The prefix for one branch or tag.
    public func prefix(for reference: String) -> String {
        prefix.replacingOccurrences(of: "{branch}", with: reference)
    }
}

/// What a file must satisfy before it is written (`mappings[].validation`).
public struct ValidationConfig: Sendable, Equatable {
    /// Files ending in .json must parse as JSON.
    public var json = true
    /// Files ending in .yaml or .yml must parse as YAML (aliases bounded).
    public var yaml = true
    /// Every file must be UTF-8 text without NUL bytes.
    public var textOnly = false
    public var maxFileSize = 1 << 20
    public var maxBundleSize = 32 << 20

    public init() {}

    init(_ node: ConfigNode) throws(ConfigError) {
        let keys = try node.mapping()
        if let value = keys.optional("json") { json = try value.bool() }
        if let value = keys.optional("yaml") { yaml = try value.bool() }
        if let value = keys.optional("text_only") { textOnly = try value.bool() }
        if let value = keys.optional("max_file_size") { maxFileSize = try value.byteCount() }
        if let value = keys.optional("max_bundle_size") { maxBundleSize = try value.byteCount() }
        try keys.finish()
    }
}

extension MappingConfig {
    /// A digest of every setting that decides whether a file is accepted and what it becomes.
    var checksFingerprint: String {
        let v = validation
        let text = [
            "json=\(v.json) yaml=\(v.yaml) text=\(v.textOnly) file=\(v.maxFileSize) bundle=\(v.maxBundleSize)",
            "include=\(include.joined(separator: "\u{0}")) exclude=\(exclude.joined(separator: "\u{0}"))",
            "expand=\(expandKeys) ignore_ext=\(ignoreFileExtension) bundle_by=\(bundleBy.rawValue)",
        ].joined(separator: "\n")
        return SHA256.hash(data: Array(text.utf8)).prefix(12).map { String(format: "%02x", $0) }.joined()
    }
}
