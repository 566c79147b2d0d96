public import KV
public import KVServer
import Logging
public import TestFixtures

/// The stores git2kv's tests run against: the embedded Consul-compatible kv-server (in
/// process) and a real etcd member (Debian's etcd-server) on free loopback ports.
public enum StoreBackend: String, CaseIterable, Sendable, CustomStringConvertible {
    case kvServer = "kv-server"
    case etcd

    public var description: String { rawValue }

    /// The `kv:` flow mapping of a daemon or renderer configuration naming a store of this
    /// backend at `address`.
    public func kvSetting(address: String) -> String {
        switch self {
        case .kvServer: "{ address: \"\(address)\" }"
        case .etcd: "{ backend: etcd, address: \"\(address)\" }"
        }
    }
}

/// A running store of one backend, a client for it, and the `kv:` setting that names it.
public final class TestStore: Sendable {
    public let backend: StoreBackend
    public let kv: any KVStore & KVLocking
    /// Where the store listens: kv-server's address, or the first etcd member's client URL.
    public let address: String
    /// The etcd cluster when the backend is etcd.
    public let etcd: EtcdCluster?
    private let server: RunningKVServer?

    private init(backend: StoreBackend, kv: any KVStore & KVLocking, address: String, etcd: EtcdCluster?, server: RunningKVServer?) {
        self.backend = backend
        self.kv = kv
        self.address = address
        self.etcd = etcd
        self.server = server
    }

    /// `kvServer` configures the kv-server (ACLs, limits); etcd ignores it.
    public static func start(_ backend: StoreBackend, kvServer: KVServer? = nil) async throws -> TestStore {
        switch backend {
        case .kvServer:
            let server = try await RunningKVServer.start(kvServer ?? KVServer(port: 0, logLevel: .critical))
            return TestStore(backend: backend, kv: ConsulClient(.init(address: server.address)), address: server.address, etcd: nil, server: server)
        case .etcd:
            let cluster = try EtcdCluster()
            try await cluster.waitUntilReady()
            return TestStore(backend: backend, kv: EtcdClient(.init(endpoints: cluster.endpoints)), address: cluster.endpoints[0], etcd: cluster, server: nil)
        }
    }

    /// The `kv:` flow mapping of a daemon or renderer configuration for this store.
    public var kvSetting: String { backend.kvSetting(address: address) }

    /// The same store through a client with other credentials (a Consul token, or an etcd `USER:PASSWORD`).
    public func client(token: String?) -> any KVStore & KVLocking {
        switch backend {
        case .kvServer:
            return ConsulClient(.init(address: address, token: token))
        case .etcd:
            let credentials = token.flatMap { try? EtcdClient.Credentials.parse($0) }
            return EtcdClient(.init(endpoints: etcd?.endpoints ?? [address], credentials: credentials))
        }
    }

    /// Stops the store (the etcd member is killed and its data removed).
    public func stop() async {
        await server?.stop()
        etcd?.stop()
    }
}
