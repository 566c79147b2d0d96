import ConfigParsing
/// `http:`, `limits:` and `ha:` of the daemon configuration: what `serve` needs beyond `sync`.
public struct ServeSettings: Sendable, Equatable {
    /// `http.listen`: the port for webhooks, /health, /metrics and /status.
    public var listen = "127.0.0.1:9420"
    /// `http.max_webhook_bytes`: larger webhook bodies are refused with 413.
    public var maxWebhookBytes = 1024 * 1024
    /// `http.max_connections`: connections held at once; more are closed on arrival.
    public var maxConnections = 4096
    /// `http.request_timeout`: a request must arrive whole (head and body) within this.
    public var requestTimeout: Duration = .seconds(30)
    /// `http.idle_timeout`: a keep-alive connection with no request is closed after this.
    public var idleTimeout: Duration = .seconds(60)
    /// `limits.kv_operations_per_second`: the token bucket every KV write of this daemon draws from.
    public var kvOperationsPerSecond = 1000
    /// `limits.kv_operations_burst`: how many operations may go at once after a quiet spell.
    public var kvOperationsBurst = 2000
    /// `limits.concurrent_syncs`: syncs running at once across all repos.
    public var concurrentSyncs = 4
    /// `ha.enabled`: take a KV session lock per repo so that only one replica writes it.
    public var highAvailability = true
    /// `ha.session_ttl`: a replica that stops renewing loses its locks after this long.
    public var sessionTTL: Duration = .seconds(15)
    /// `ha.lock_delay`: after a leader's session ends, nobody takes its lock for this long.
    public var lockDelay: Duration = .seconds(1)

    public init() {}

    mutating func readHTTP(_ node: ConfigNode) throws(ConfigError) {
        let keys = try node.mapping()
        if let value = keys.optional("listen") { listen = try value.nonEmptyString() }
        if let value = keys.optional("max_webhook_bytes") { maxWebhookBytes = try Self.positive(value.byteCount(), value) }
        if let value = keys.optional("max_connections") { maxConnections = try Self.positive(value.int(), value) }
        if let value = keys.optional("request_timeout") { requestTimeout = try Self.atLeastOneSecond(value) }
        if let value = keys.optional("idle_timeout") { idleTimeout = try Self.atLeastOneSecond(value) }
        try keys.finish()
    }

    mutating func readLimits(_ node: ConfigNode) throws(ConfigError) {
        let keys = try node.mapping()
        if let value = keys.optional("kv_operations_per_second") { kvOperationsPerSecond = try Self.positive(value.int(), value) }
        if let value = keys.optional("kv_operations_burst") { kvOperationsBurst = try Self.positive(value.int(), value) }
        if let value = keys.optional("concurrent_syncs") { concurrentSyncs = try Self.positive(value.int(), value) }
        try keys.finish()
        if kvOperationsBurst < 64 {
            throw node.error("kv_operations_burst must be at least 64, the operations of one Consul transaction")
        }
    }

    mutating func readHA(_ node: ConfigNode) throws(ConfigError) {
        let keys = try node.mapping()
        if let value = keys.optional("enabled") { highAvailability = try value.bool() }
        if let value = keys.optional("session_ttl") { sessionTTL = try value.duration() }
        if let value = keys.optional("lock_delay") { lockDelay = try value.duration() }
        try keys.finish()
    }

    private static func atLeastOneSecond(_ node: ConfigNode) throws(ConfigError) -> Duration {
        let duration = try node.duration()
        guard duration >= .seconds(1) else { throw node.error("must be at least 1s") }
        return duration
    }

    private static func positive(_ number: Int, _ node: ConfigNode) throws(ConfigError) -> Int {
        guard number > 0 else { throw node.error("must be greater than 0") }
        return number
    }
}
