import Foundation

/// A compact JSON form (value as base64), used by `git2kv kv-server` to persist entries.
extension KVEntry: Codable {
    private enum CodingKeys: String, CodingKey {
        case key, value, flags, createIndex, modifyIndex, lockIndex, session
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            key: try container.decode(String.self, forKey: .key),
            value: Array(try container.decode(Data.self, forKey: .value)),
            flags: try container.decode(UInt64.self, forKey: .flags),
            createIndex: try container.decode(UInt64.self, forKey: .createIndex),
            modifyIndex: try container.decode(UInt64.self, forKey: .modifyIndex),
            lockIndex: try container.decode(UInt64.self, forKey: .lockIndex),
            session: try container.decodeIfPresent(String.self, forKey: .session))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(key, forKey: .key)
        try container.encode(Data(value), forKey: .value)
        try container.encode(flags, forKey: .flags)
        try container.encode(createIndex, forKey: .createIndex)
        try container.encode(modifyIndex, forKey: .modifyIndex)
        try container.encode(lockIndex, forKey: .lockIndex)
        try container.encodeIfPresent(session, forKey: .session)
    }
}
