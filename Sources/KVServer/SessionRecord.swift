import KV

/// A Consul session: who holds it, what happens to its locks when it ends, and its TTL.
struct SessionRecord: Codable, Sendable, Hashable {
    enum Behavior: String, Codable, Sendable {
        case release, delete
    }

    var id: String
    var name: String
    var node: String
    var behavior: Behavior
    /// Nanoseconds; Consul reports LockDelay as a number of nanoseconds.
    var lockDelayNanoseconds: Int64
    /// "" for no TTL, else Consul's text form ("15s").
    var ttl: String
    var createIndex: UInt64
    var modifyIndex: UInt64

    var ttlDuration: Duration? {
        ttl.isEmpty ? nil : ConsulWire.parseDuration(Substring(ttl))
    }
}

/// The JSON Consul answers for a session.
struct SessionJSON: Encodable {
    let session: SessionRecord

    private enum CodingKeys: String, CodingKey {
        case id = "ID", name = "Name", node = "Node", lockDelay = "LockDelay", behavior = "Behavior", ttl = "TTL"
        case nodeChecks = "NodeChecks", serviceChecks = "ServiceChecks", createIndex = "CreateIndex", modifyIndex = "ModifyIndex"
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(session.id, forKey: .id)
        try container.encode(session.name, forKey: .name)
        try container.encode(session.node, forKey: .node)
        try container.encode(session.lockDelayNanoseconds, forKey: .lockDelay)
        try container.encode(session.behavior.rawValue, forKey: .behavior)
        try container.encode(session.ttl, forKey: .ttl)
        try container.encode([String](), forKey: .nodeChecks)
        try container.encodeNil(forKey: .serviceChecks)
        try container.encode(session.createIndex, forKey: .createIndex)
        try container.encode(session.modifyIndex, forKey: .modifyIndex)
    }
}
