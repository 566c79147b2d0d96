/// `/health`: the daemon is alive when it answers; ready when KV answers and every repo was
/// fetched recently (a poller that stopped makes the daemon unready, never silently stale).
public struct HealthReport: Sendable, Codable {
    public struct Repo: Sendable, Codable {
        public var name: String
        /// `leader`, `follower`, or `single` when HA is off.
        public var role: String
        public var secondsSinceLastPoll: Double
        /// Ready for this repo: a follower has fetched recently; a leader has also synced.
        public var pollCurrent: Bool
        /// What keeps the repo from syncing: a token without the rights HA needs, a failing
        /// fetch, a branch that cannot be resolved. Empty when all is well.
        public var problems: [String]

        public var leader: Bool { role != "follower" }

        enum CodingKeys: String, CodingKey {
            case name, role, leader, problems
            case secondsSinceLastPoll = "seconds_since_last_poll"
            case pollCurrent = "poll_current"
        }

        public init(name: String, role: String, secondsSinceLastPoll: Double, pollCurrent: Bool, problems: [String] = []) {
            self.name = name
            self.role = role
            self.secondsSinceLastPoll = secondsSinceLastPoll
            self.pollCurrent = pollCurrent
            self.problems = problems
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            name = try container.decode(String.self, forKey: .name)
            role = try container.decode(String.self, forKey: .role)
            secondsSinceLastPoll = try container.decode(Double.self, forKey: .secondsSinceLastPoll)
            pollCurrent = try container.decode(Bool.self, forKey: .pollCurrent)
            problems = try container.decodeIfPresent([String].self, forKey: .problems) ?? []
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(name, forKey: .name)
            try container.encode(role, forKey: .role)
            try container.encode(leader, forKey: .leader)
            try container.encode(secondsSinceLastPoll, forKey: .secondsSinceLastPoll)
            try container.encode(pollCurrent, forKey: .pollCurrent)
            try container.encode(problems, forKey: .problems)
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
