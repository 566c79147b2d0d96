/// A session (Consul) or lease (etcd) that holds locks and ends when not renewed in time.
public struct KVSessionOptions: Sendable, Hashable {
    public enum Behavior: String, Sendable, Hashable {
        /// Locks held by the session are released when it ends.
        case release
        /// Keys locked by the session are deleted when it ends.
        case delete
    }

    public var name: String
    /// The session ends unless renewed within this time.
    public var ttl: Duration
    public var behavior: Behavior
    /// After the session ends, its locks cannot be taken for this long (Consul's lock-delay).
    public var lockDelay: Duration

    public init(name: String, ttl: Duration, behavior: Behavior = .release, lockDelay: Duration = .seconds(15)) {
        self.name = name
        self.ttl = ttl
        self.behavior = behavior
        self.lockDelay = lockDelay
    }
}

/// Sessions and locks for leader election, on top of the KV store.
public protocol KVLocking: Sendable {
    /// Creates a session and returns its ID.
    func createSession(_ options: KVSessionOptions) async throws(KVError) -> String
    /// Restarts the session's TTL; false when the session no longer exists.
    func renewSession(_ id: String) async throws(KVError) -> Bool
    /// Ends the session, releasing (or deleting) what it holds.
    func destroySession(_ id: String) async throws(KVError)
    /// Takes the lock on `key` for `session`, writing `value`; false when another session holds it.
    func acquire(_ key: String, value: [UInt8], session: String) async throws(KVError) -> Bool
    /// Gives the lock up, writing `value`; false when `session` did not hold it.
    func release(_ key: String, value: [UInt8], session: String) async throws(KVError) -> Bool
}
