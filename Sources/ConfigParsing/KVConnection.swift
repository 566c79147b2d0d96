public import KV
public import Secrets

/// Opens the KV store a configuration names, with a mapping's own token when it has one.
public enum KVConnection {
    public static func open(_ config: KVConfig, token: SecretSource?) throws(KVError) -> any KVStore & KVLocking {
        let source = token ?? config.token
        let secret = try source.map { source throws(KVError) in try KVToken.read(source) }
        let usesTLS = config.tls.caFile != nil || config.tls.certificateFile != nil
        let http = usesTLS ? try ConsulClient.httpClient(tls: config.tls) : ConsulClient.sharedHTTPClient
        switch config.backend {
        case .etcd:
            let configuration = EtcdClient.Configuration(
                endpoints: config.memberAddresses,
                credentials: try secret.map { secret throws(KVError) in try EtcdClient.Credentials.parse(secret, from: source?.description) },
                requestTimeout: config.requestTimeout)
            return EtcdClient(configuration, httpClient: http)
        case .consul:
            let configuration = ConsulClient.Configuration(
                address: config.address, token: secret, datacenter: config.datacenter, requestTimeout: config.requestTimeout)
            return ConsulClient(configuration, httpClient: http)
        }
    }
}
