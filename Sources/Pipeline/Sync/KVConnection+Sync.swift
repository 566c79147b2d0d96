package import ConfigParsing
package import KV
package import Secrets

extension KVConnection {
    /// `open` for the sync path, whose failures are `SyncError`s.
    package static func openForSync(_ config: KVConfig, token: SecretSource?) throws(SyncError) -> any KVStore & KVLocking {
        do { return try open(config, token: token) } catch { throw SyncError(.kv, error.description) }
    }
}
