import Foundation

/// The value of `<prefix>/.git2kv/freeze`: while it exists no replica syncs the prefix.
public struct FreezeRecord: Codable, Sendable, Equatable {
    public var reason: String
    /// Seconds since 1970.
    public var frozenAt: Int64
    /// The machine that froze it, for the audit trail.
    public var host: String
    /// Set when the freeze came with a rollback: the commit the prefix was rolled back to.
    public var rollbackTo: String?
    /// Set when a staged rollout froze the prefix because a canary node failed this commit; a
    /// newer commit lifts such a freeze by itself.
    public var rolloutCommit: String?

    public init(reason: String, frozenAt: Int64, host: String, rollbackTo: String? = nil, rolloutCommit: String? = nil) {
        self.reason = reason
        self.frozenAt = frozenAt
        self.host = host
        self.rollbackTo = rollbackTo
        self.rolloutCommit = rolloutCommit
    }

    enum CodingKeys: String, CodingKey {
        case reason, host
        case frozenAt = "frozen_at"
        case rollbackTo = "rollback_to"
        case rolloutCommit = "rollout_commit"
    }

    public func encoded() -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array((try? encoder.encode(self)) ?? Data())
    }

    /// Reads a freeze value; a value someone wrote by hand that is not ours still freezes,
    /// with its text as the reason.
    public static func decode(_ bytes: [UInt8]) -> FreezeRecord {
        if let record = try? JSONDecoder().decode(FreezeRecord.self, from: Data(bytes)) { return record }
        let text = String(decoding: bytes.prefix(200), as: UTF8.self)
        return FreezeRecord(reason: text.isEmpty ? "(no reason given)" : text, frozenAt: 0, host: "unknown")
    }

    public var summary: String {
        var text = "frozen: \(reason)"
        if let rollbackTo { text += " (rolled back to \(rollbackTo.prefix(12)))" }
        if frozenAt > 0 {
            text += " since " + ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: TimeInterval(frozenAt)))
        }
        return text + " by \(host)"
    }
}
