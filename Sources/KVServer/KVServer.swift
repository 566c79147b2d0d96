import Hummingbird
import KV
public import Logging
import NIOCore

/// `git2kv kv-server`: an embedded server speaking Consul's HTTP API (in memory for now).
public struct KVServer: Sendable {
    public var host: String
    public var port: Int
    public var limits: KVServerLimits
    public var logLevel: Logger.Level

    public init(host: String = "127.0.0.1", port: Int = 8500, limits: KVServerLimits = KVServerLimits(), logLevel: Logger.Level = .warning) {
        self.host = host
        self.port = port
        self.limits = limits
        self.logLevel = logLevel
    }

    /// Runs until the task is cancelled (or, with `handleSignals`, until SIGINT/SIGTERM).
    /// `onListening` receives the bound port (useful with port 0).
    public func run(handleSignals: Bool = false, onListening: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        var logger = Logger(label: "git2kv.kv-server")
        logger.logLevel = logLevel
        let application = Application(
            responder: ConsulHTTPResponder(store: KVStateStore(), limits: limits),
            configuration: ApplicationConfiguration(address: .hostname(host, port: port), serverName: "git2kv-kv-server"),
            onServerRunning: { channel in await onListening(channel.localAddress?.port ?? 0) },
            logger: logger)
        if handleSignals {
            try await application.runService()
        } else {
            try await application.run()
        }
    }
}

/// A server started in the background of this process (tests, `git2kv demo`).
public final class RunningKVServer: Sendable {
    public let port: Int
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
            return RunningKVServer(port: port, task: task)
        }
        _ = try await task.value
        throw KVServerStartError()
    }

    private init(port: Int, task: Task<Void, any Error>) {
        self.port = port
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
