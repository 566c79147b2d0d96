public import KV
public import Secrets

/// Opens the KV store a configuration names, with a mapping's own token when it has one.
public enum KVConnection {
    public static func open(_ config: KVConfig, token: SecretSource?) throws(SyncError) -> any KVStore {
        switch config.backend {
        case .etcd:
            throw SyncError(.kv, "kv.backend etcd is not available in this build yet; use consul (or git2kv kv-server)")
        case .consul:
            do {
                let tokenValue = try (token ?? config.token).map { source throws(KVError) in try KVToken.read(source) }
                let configuration = ConsulClient.Configuration(
                    address: config.address, token: tokenValue, datacenter: config.datacenter, requestTimeout: config.requestTimeout)
                let usesTLS = config.tls.caFile != nil || config.tls.certificateFile != nil
                if usesTLS {
                    return ConsulClient(configuration, httpClient: try ConsulClient.httpClient(tls: config.tls))
                }
                return ConsulClient(configuration)
            } catch {
                throw SyncError(.kv, error.description)
            }
        }
    }
}
