import Foundation
import HTTPServing
import Hummingbird
import LifecycleSupport
public import Logging
public import Pipeline
import ServiceLifecycle
import UnixSignals
import ConfigParsing

/// `git2kv serve`: the daemon and its HTTP port, with SIGHUP reloading the configuration file
/// and SIGTERM/SIGINT stopping after the running transactions.
public struct DaemonServer: Sendable {
    public let config: DaemonConfig
    public let logger: Logger
    public let daemon: SyncDaemon

    /// Fails only when `metrics.dogstatsd` names a host that cannot be resolved.
    public init(config: DaemonConfig, logger: Logger, fetcher: MirrorFetcher = .inProcess) throws(DaemonError) {
        self.config = config
        self.logger = logger
        let metrics: DaemonMetrics
        do {
            metrics = try DaemonMetrics(config: config.metrics)
        } catch {
            throw DaemonError("\(config.file): metrics: \(error)")
        }
        self.daemon = SyncDaemon(config: config, logger: logger, metrics: metrics, fetcher: fetcher)
    }

    /// Starts the daemon and serves until stopped: by a signal with `handleSignals`, otherwise
    /// by cancelling the task; either way the shutdown is graceful (running syncs finish, the
    /// listener closes cleanly). `onListening` receives the bound port.
    public func run(handleSignals: Bool, port overridePort: Int? = nil, onListening: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        let (host, configuredPort) = try Self.hostAndPort(config.serve.listen)
        try await daemon.start()
        let lifecycle = DaemonLifecycle(daemon: daemon, configFile: config.file, reloadOnHangup: handleSignals, logger: logger)
        let application = Application(
            router: DaemonRouter.make(daemon, maxWebhookBytes: config.serve.maxWebhookBytes),
            server: HTTPServerLimits(
                requestTimeout: config.serve.requestTimeout, idleTimeout: config.serve.idleTimeout, maxConnections: config.serve.maxConnections
            ).http1(),
            configuration: ApplicationConfiguration(address: .hostname(host, port: overridePort ?? configuredPort), serverName: "git2kv"),
            services: [lifecycle],
            onServerRunning: { channel in await onListening(channel.localAddress?.port ?? 0) },
            logger: logger)
        if handleSignals {
            try await application.runService(gracefulShutdownSignals: [.sigterm, .sigint])
        } else {
            let group = ServiceGroup(configuration: ServiceGroupConfiguration(services: [application], logger: logger))
            try await group.runShuttingDownGracefullyOnCancel()
        }
    }

    /// `http.listen` split into host (127.0.0.1 when empty) and port.
    public static func hostAndPort(_ listen: String) throws(DaemonError) -> (host: String, port: Int) {
        guard let address = ListenAddress(listen) else { throw DaemonError("http.listen must be HOST:PORT, got \(listen)") }
        return (address.host, address.port)
    }
}

/// Runs beside the HTTP server: reloads on SIGHUP, and on shutdown lets the daemon finish.
struct DaemonLifecycle: Service {
    let daemon: SyncDaemon
    let configFile: String
    let reloadOnHangup: Bool
    let logger: Logger

    func run() async throws {
        if reloadOnHangup {
            let hangups = await UnixSignalsSequence(trapping: .sighup)
            await cancelWhenGracefulShutdown {
                for await _ in hangups { await reload() }
            }
        } else {
            try? await gracefulShutdown()
        }
        await daemon.shutdown()
    }

    private func reload() async {
        logger.info("SIGHUP: reloading the configuration", metadata: ["config": "\(configFile)"])
        do {
            let config = try DaemonConfig.load(file: configFile)
            try await daemon.reload(config)
        } catch let error as ConfigError {
            logger.error("configuration refused; the running one stays", metadata: ["error": "\(error)"])
        } catch {
            logger.error("configuration refused; the running one stays", metadata: ["error": "\(error)"])
        }
    }
}
