import KV
import StoreFixtures
import TestFixtures

/// The store an end-to-end test runs the binaries against: the `git2kv kv-server` binary, or a
/// real etcd member.
struct E2EStore {
    let backend: StoreBackend
    let address: String
    let kv: any KVStore & KVLocking
    private let server: BackgroundProcess?
    private let etcd: EtcdCluster?

    static func start(_ backend: StoreBackend) async throws -> E2EStore {
        switch backend {
        case .kvServer:
            let (server, port) = try Git2KVBinary.startKVServer()
            let address = "http://127.0.0.1:\(port)"
            return E2EStore(backend: backend, address: address, kv: ConsulClient(.init(address: address)), server: server, etcd: nil)
        case .etcd:
            let cluster = try EtcdCluster()
            try await cluster.waitUntilReady()
            return E2EStore(
                backend: backend, address: cluster.endpoints[0], kv: EtcdClient(.init(endpoints: cluster.endpoints)), server: nil, etcd: cluster)
        }
    }

    /// The `kv:` flow mapping naming this store in a configuration file.
    var kvSetting: String { backend.kvSetting(address: address) }

    func stop() {
        server?.kill()
        etcd?.stop()
    }
}
