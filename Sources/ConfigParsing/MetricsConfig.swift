/// `metrics:` in the daemon and renderer configs: where DogStatsD metrics go, beside the
/// Prometheus endpoint that is always there.
public struct MetricsConfig: Sendable, Equatable {
    /// The DogStatsD agent, `HOST:PORT` over UDP; nil sends nothing.
    public var dogStatsD: DogStatsDAddress?
    /// Added to every metric and event, as DogStatsD writes them: `env:prod`, `team:web`.
    public var tags: [String] = []
    /// Renderer only: a Datadog event per delivery (bundle, commit, destination, outcome).
    public var events = false

    public init() {}

    /// Reads `metrics:`; `allowsEvents` is false for configs whose process delivers nothing.
    package init(_ node: ConfigNode, allowsEvents: Bool) throws(ConfigError) {
        let keys = try node.mapping()
        if let value = keys.optional("dogstatsd") {
            let text = try value.nonEmptyString()
            guard let address = DogStatsDAddress(text) else {
                throw value.error("dogstatsd must be HOST:PORT of the DogStatsD agent (UDP), e.g. 127.0.0.1:8125; got \(text.debugDescription)")
            }
            dogStatsD = address
        }
        if let value = keys.optional("tags") {
            for item in try value.list(allowSingle: true) {
                let tag = try item.nonEmptyString()
                if let bad = tag.first(where: { "|,#\n\r".contains($0) }) {
                    throw item.error("tag \(tag.debugDescription) contains \(String(bad).debugDescription), which DogStatsD uses as a separator")
                }
                tags.append(tag)
            }
        }
        if let value = keys.optional("events") {
            guard allowsEvents else { throw value.error("events are sent by the renderer (one per delivery); this process delivers nothing") }
            events = try value.bool()
        }
        try keys.finish()
        if dogStatsD == nil, events || !tags.isEmpty {
            throw node.error("tags and events need dogstatsd: HOST:PORT to send them to")
        }
    }
}

/// Where a DogStatsD agent listens: a host name or IP and a UDP port.
public struct DogStatsDAddress: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init?(_ text: String) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (1...65535).contains(port) else {
            return nil
        }
        var host = String(text[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { return nil }
        self.host = host
        self.port = port
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}
