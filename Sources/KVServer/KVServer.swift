import HTTPServing
import Hummingbird
public import KV
public import Logging
import LifecycleSupport
import NIOCore
import ServiceLifecycle

/// `git2kv kv-server`: an embedded server speaking Consul's HTTP API. In memory without a data
/// directory; with one, every acknowledged write survives a crash.
public struct KVServer: Sendable {
    public var host: String
    public var port: Int
    public var dataDirectory: String?
    /// Turns ACLs on: this token may do everything; requests without a known token may do nothing.
    public var aclBootstrapToken: String?
    public var limits: KVServerLimits
    public var logLevel: Logger.Level
    /// Session TTLs and lock delays run on it; tests pass a manual clock.
    public var clock: ServiceClock = .continuous
    /// Start even when the log is damaged before its end: keep what precedes the damage, drop the rest.
    public var recoverDamagedLog = false
    public let requests = RequestCounter()

    public init(
        host: String = "127.0.0.1", port: Int = 8500, dataDirectory: String? = nil, aclBootstrapToken: String? = nil,
        limits: KVServerLimits = KVServerLimits(), logLevel: Logger.Level = .warning
    ) {
        self.host = host
        self.port = port
        self.dataDirectory = dataDirectory
        self.aclBootstrapToken = aclBootstrapToken
        self.limits = limits
        self.logLevel = logLevel
    }

    /// Runs until the task is cancelled (or, with `handleSignals`, until SIGINT/SIGTERM).
    /// `onListening` receives the bound port (useful with port 0).
    public func run(handleSignals: Bool = false, onListening: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        var logger = Logger(label: "git2kv.kv-server")
        logger.logLevel = logLevel
        let store: ServerStore
        if let dataDirectory {
            store = try ServerStore(
                directory: dataDirectory, limits: limits, bootstrapToken: aclBootstrapToken, clock: clock, recoverDamagedLog: recoverDamagedLog)
        } else {
            store = ServerStore(limits: limits, bootstrapToken: aclBootstrapToken, clock: clock)
        }
        await store.startSessionClocks()
        await store.registerSelf(address: host)
        let application = Application(
            responder: ConsulHTTPResponder(store: store, limits: limits, requests: requests),
            server: HTTPServerLimits().http1(),
            // A fleet reconnects all at once after a restart: a short accept queue drops SYNs and
            // turns that into seconds of retransmits (the kernel caps this at somaxconn).
            configuration: ApplicationConfiguration(address: .hostname(host, port: port), serverName: "git2kv-kv-server", backlog: 4096),
            onServerRunning: { channel in await onListening(channel.localAddress?.port ?? 0) },
            logger: logger)
        // Shut down in reverse order: long polls end first, so the listener's graceful close
        // does not wait minutes for them.
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: [application, BlockingQueryDrain(store: store)], gracefulShutdownSignals: handleSignals ? [.sigterm, .sigint] : [],
                logger: logger))
        do {
            if handleSignals {
                try await group.run()
            } else {
                try await group.runShuttingDownGracefullyOnCancel()
            }
        } catch {
            await store.close()
            throw error
        }
        await store.close()
    }
}

/// On graceful shutdown, answers every blocking query at once.
struct BlockingQueryDrain: Service {
    let store: ServerStore

    func run() async throws {
        try? await gracefulShutdown()
        await store.endBlockingQueries()
    }
}

/// A server started in the background of this process (tests, benchmarks, `git2kv demo`).
public final class RunningKVServer: Sendable {
    public let port: Int
    public let requests: RequestCounter
    private let task: Task<Void, any Error>

    public var address: String { "http://127.0.0.1:\(port)" }

    /// Starts `server` (use port 0 for a free port) and returns once it listens. Stopping cancels
    /// in-flight requests, so the default logs only critical messages.
    public static func start(_ server: KVServer = KVServer(port: 0, logLevel: .critical)) async throws -> RunningKVServer {
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let task = Task {
            defer { continuation.finish() }
            try await server.run { port in continuation.yield(port) }
        }
        for await port in ports {
            return RunningKVServer(port: port, requests: server.requests, task: task)
        }
        _ = try await task.value
        throw KVServerStartError()
    }

    private init(port: Int, requests: RequestCounter, task: Task<Void, any Error>) {
        self.port = port
        self.requests = requests
        self.task = task
    }

    public func stop() async {
        task.cancel()
        _ = try? await task.value
    }
}

struct KVServerStartError: Error, CustomStringConvertible {
    var description: String { "kv-server stopped before it listened" }
}
