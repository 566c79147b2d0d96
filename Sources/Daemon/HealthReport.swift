/// `/health`: the daemon is alive when it answers; ready when KV answers and every repo was
/// fetched recently (a poller that stopped makes the daemon unready, never silently stale).
public struct HealthReport: Sendable, Codable {
    public struct Repo: Sendable, Codable {
        public var name: String
        public var secondsSinceLastPoll: Double
        public var pollCurrent: Bool
        public var leader: Bool

        enum CodingKeys: String, CodingKey {
            case name, leader
            case secondsSinceLastPoll = "seconds_since_last_poll"
            case pollCurrent = "poll_current"
        }
    }

    public var kvReachable = false
    public var repos: [Repo] = []

    public var ready: Bool { kvReachable && repos.allSatisfy(\.pollCurrent) }

    enum CodingKeys: String, CodingKey {
        case repos, ready, live
        case kvReachable = "kv_reachable"
    }

    public init() {}

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        kvReachable = try container.decode(Bool.self, forKey: .kvReachable)
        repos = try container.decode([Repo].self, forKey: .repos)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(true, forKey: .live)
        try container.encode(ready, forKey: .ready)
        try container.encode(kvReachable, forKey: .kvReachable)
        try container.encode(repos, forKey: .repos)
    }
}
