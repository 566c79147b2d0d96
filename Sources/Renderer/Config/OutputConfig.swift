package import ConfigParsing

/// One file a renderer keeps on the node (`outputs[]` in the renderer configuration).
public struct OutputConfig: Sendable, Equatable {
    public enum Content: Sendable, Equatable {
        /// A template on the node, rendered with the bundle's files as data.
        case template(path: String)
        /// One file of the bundle, delivered verbatim.
        case file(name: String)
    }

    /// The bundle's KV key.
    public var bundle: String
    public var content: Content
    public var destination: String
    /// Permission bits; nil keeps the existing file's (0644 for a new file).
    public var mode: UInt32?
    public var owner: String?
    public var group: String?
    /// Keep the replaced file as `<destination>.bak`.
    public var backup = false
    /// Run on the staged file before it replaces the destination; `{{staged}}` is its path.
    public var check: [String]?
    /// Run after the destination changed.
    public var command: [String]?
    public var commandTimeout: Duration = .seconds(30)
    /// Wait a random time up to this before the command (consul-template's `splay`), so a fleet
    /// does not reload in the same second.
    public var splay: Duration = .zero
    /// Refuse content with fewer lines (an empty hosts file must never be delivered).
    public var minLines: Int?
    /// A name the data lacks or an unknown partial fails the output (false: renders as nothing).
    public var strict = true
    /// Of sharded hosts data, only these services, tags or nodes (a `file` output of a hosts key).
    public var hosts: HostsSelection?
    /// Where it was declared, for messages.
    public var origin: String

    public init(bundle: String, content: Content, destination: String, origin: String = "") {
        self.bundle = bundle
        self.content = content
        self.destination = destination
        self.origin = origin
    }

    static let stagedPlaceholder = "{{staged}}"

    package init(_ node: ConfigNode) throws(ConfigError) {
        let keys = try node.mapping()
        bundle = try Self.bundleKey(keys.required("bundle"))
        let template = try keys.optional("template")?.nonEmptyString()
        let file = try keys.optional("file")?.nonEmptyString()
        switch (template, file) {
        case (let path?, nil): content = .template(path: path)
        case (nil, let name?): content = .file(name: name)
        case (nil, nil): throw node.error("give template (a template on this node) or file (a file of the bundle)")
        case (.some, .some): throw node.error("give either template or file, not both")
        }
        let destinationNode = try keys.required("destination")
        destination = try destinationNode.nonEmptyString()
        guard destination.hasPrefix("/"), !destination.hasSuffix("/") else {
            throw destinationNode.error("\(destination.debugDescription) must be an absolute file path")
        }
        origin = node.location
        if let value = keys.optional("mode") { mode = try Self.mode(value) }
        owner = try keys.optional("owner")?.nonEmptyString()
        group = try keys.optional("group")?.nonEmptyString()
        if let value = keys.optional("backup") { backup = try value.bool() }
        if let value = keys.optional("check") {
            let argv = try Self.argv(value)
            guard argv.contains(where: { $0.contains(Self.stagedPlaceholder) }) else {
                throw value.error("check must name the staged file with \(Self.stagedPlaceholder), or it checks the old file")
            }
            check = argv
        }
        if let value = keys.optional("command") { command = try Self.argv(value) }
        if let value = keys.optional("command_timeout") {
            commandTimeout = try value.duration()
            guard commandTimeout > .zero else { throw value.error("must be greater than 0") }
        }
        if let value = keys.optional("strict") {
            strict = try value.bool()
            guard case .template = content else { throw value.error("strict applies to template outputs only") }
        }
        if let value = keys.optional("splay") {
            splay = try value.duration()
            guard splay >= .zero, splay <= .seconds(3600) else { throw value.error("must be between 0s and 1h") }
            guard command != nil else { throw value.error("splay delays the command; this output has none") }
        }
        if let value = keys.optional("min_lines") {
            let lines = try value.int()
            guard lines > 0 else { throw value.error("must be greater than 0") }
            minLines = lines
        }
        if let value = keys.optional("hosts") {
            guard case .file = content else { throw value.error("hosts selects lines of a hosts file: give file, not template") }
            hosts = try HostsSelection(value)
        }
        try keys.finish()
    }

    private static func bundleKey(_ node: ConfigNode) throws(ConfigError) -> String {
        let key = try node.nonEmptyString()
        if let problem = KeyPathRules.problem(in: key) { throw node.error("\(key.debugDescription) is not a bundle key: it \(problem)") }
        return key
    }

    /// An argv list: never a shell string, so nothing is split or expanded behind the operator's back.
    private static func argv(_ node: ConfigNode) throws(ConfigError) -> [String] {
        let argv = try node.strings()
        guard let program = argv.first else { throw node.error("must name a program to run") }
        guard program.hasPrefix("/") else {
            throw node.error("\(program.debugDescription) must be an absolute path (commands run without a shell or PATH lookup)")
        }
        return argv
    }

    private static func mode(_ node: ConfigNode) throws(ConfigError) -> UInt32 {
        let text = try node.string()
        guard let bits = UInt32(text, radix: 8), bits <= 0o7777 else {
            throw node.error("\(text.debugDescription) is not an octal file mode (e.g. \"0644\")")
        }
        return bits
    }
}
