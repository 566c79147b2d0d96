/// Progress of a fetch, as libgit2 reports it while receiving and indexing a pack.
public struct TransferProgress: Hashable, Sendable {
    public let totalObjects: Int
    public let receivedObjects: Int
    public let indexedObjects: Int
    public let localObjects: Int
    public let receivedBytes: Int

    public init(totalObjects: Int, receivedObjects: Int, indexedObjects: Int, localObjects: Int, receivedBytes: Int) {
        self.totalObjects = totalObjects
        self.receivedObjects = receivedObjects
        self.indexedObjects = indexedObjects
        self.localObjects = localObjects
        self.receivedBytes = receivedBytes
    }
}

/// A reference that a fetch created, moved or deleted.
public struct ReferenceUpdate: Hashable, Sendable {
    public let name: String
    /// nil when the reference is new.
    public let oldID: ObjectID?
    /// nil when the reference was deleted (pruned).
    public let newID: ObjectID?

    public init(name: String, oldID: ObjectID?, newID: ObjectID?) {
        self.name = name
        self.oldID = oldID
        self.newID = newID
    }
}
