import Foundation

/// A verified webhook that reached a replica which does not lead its repo, written to the
/// repo's sync-request key for the leader to act on. Only what the push asked for travels:
/// the webhook itself (and its signature) stays with the replica that verified it.
struct ForwardedSyncRequest: Codable, Sendable, Equatable {
    var branches: [String]
    var tags: [String]
    var everything: Bool
    var heads: [String: String]
    var previousHeads: [String: String]?
    /// The replica that received the webhook, for logs.
    var receivedBy: String
    /// Makes every request a new value, so the leader's blocking query wakes for each one.
    var id: String

    init(_ event: PushEvent, receivedBy: String) {
        branches = event.branches
        tags = event.tags
        everything = event.everything
        heads = event.heads
        previousHeads = event.previousHeads
        self.receivedBy = receivedBy
        id = UUID().uuidString
    }

    var event: PushEvent {
        PushEvent(branches: branches, tags: tags, everything: everything, heads: heads, previousHeads: previousHeads ?? [:])
    }

    func encoded() -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return (try? Array(encoder.encode(self))) ?? []
    }

    static func decode(_ bytes: [UInt8]) -> ForwardedSyncRequest? {
        try? JSONDecoder().decode(ForwardedSyncRequest.self, from: Data(bytes))
    }
}
