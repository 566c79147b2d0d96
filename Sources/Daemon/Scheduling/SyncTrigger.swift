/// What a sync request covers within one repo; requests are coalesced per trigger.
enum SyncTrigger: Hashable, Sendable, CustomStringConvertible {
    case branch(String)
    /// Every synced tag (tag pushes and polls).
    case tags

    var description: String {
        switch self {
        case .branch(let name): "branch \(name)"
        case .tags: "tags"
        }
    }
}

/// Why a sync was requested, for logs.
enum SyncCause: String, Sendable {
    case startup, poll, webhook, leadership, retry
    /// A webhook a follower received and passed on through the sync-request key.
    case forwarded
}
