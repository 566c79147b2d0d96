/// A person and moment from a commit signature.
public struct GitSignature: Hashable, Sendable {
    public let name: String
    public let email: String
    /// Seconds since 1970-01-01 UTC.
    public let time: Int64
    /// Minutes east of UTC at which the signature was made.
    public let utcOffsetMinutes: Int32

    public init(name: String, email: String, time: Int64, utcOffsetMinutes: Int32) {
        self.name = name
        self.email = email
        self.time = time
        self.utcOffsetMinutes = utcOffsetMinutes
    }
}

/// Commit metadata, copied out of libgit2.
public struct CommitInfo: Hashable, Sendable {
    public let id: ObjectID
    public let tree: ObjectID
    public let parents: [ObjectID]
    public let author: GitSignature
    public let committer: GitSignature
    /// The first paragraph of the message, on one line.
    public let summary: String
    public let message: String

    public init(
        id: ObjectID, tree: ObjectID, parents: [ObjectID], author: GitSignature, committer: GitSignature,
        summary: String, message: String
    ) {
        self.id = id
        self.tree = tree
        self.parents = parents
        self.author = author
        self.committer = committer
        self.summary = summary
        self.message = message
    }
}
