/// Why a mapping could not be synced, in words an operator understands.
public struct SyncError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable, Equatable {
        /// The state key holds something git2kv cannot read.
        case unreadableState
        /// Another process changed the state key between our read and our write, too many times.
        case conflict
        /// A key would fall outside the mapping's prefix.
        case outsidePrefix
        /// The branch or tag does not exist in the repository.
        case missingReference
        case git
        case kv
        case bundle
        /// The prefix is frozen; nothing was written.
        case frozen
        /// This replica no longer holds the leader lock; nothing more was written.
        case notLeader
    }

    public let kind: Kind
    public let message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }
}
