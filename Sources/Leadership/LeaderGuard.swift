package import KV

/// A key the leader locks with its session besides the election's own lock: one per mapping,
/// under the mapping's prefix and taken with the mapping's token, so every transaction of every
/// mapping can check the leader's session on a key its own token may read.
package struct LeaderGuard: Sendable {
    package let key: String
    package let kv: any KVStore & KVLocking
    /// Where the token came from, for messages (never the token).
    package let tokenOrigin: String

    package init(key: String, kv: any KVStore & KVLocking, tokenOrigin: String) {
        self.key = key
        self.kv = kv
        self.tokenOrigin = tokenOrigin
    }
}
