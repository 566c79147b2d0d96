import Foundation
import HTTPServing
import Hummingbird
import KV
import LifecycleSupport
public import Logging
import ServiceLifecycle
import UnixSignals
import ConfigParsing

/// `git2kv render` without `--once`: watch and render until SIGTERM or SIGINT; SIGHUP reloads
/// the configuration (a bad file is logged and the running configuration stays). The watcher,
/// the reload handler and the optional metrics listener are services of one ServiceGroup, so a
/// stop signal finishes the running delivery and closes the listener cleanly.
public struct RendererRunner: Sendable {
    public let config: RendererConfig
    public let logger: Logger
    public let metrics: RendererMetrics

    /// Fails only when `metrics.dogstatsd` names a host that cannot be resolved.
    public init(config: RendererConfig, logger: Logger) throws(RenderError) {
        self.config = config
        self.logger = logger
        do {
            metrics = try RendererMetrics(config: config.metrics)
        } catch {
            throw RenderError(.state, "\(config.file): metrics: \(error)")
        }
    }

    /// Runs until a stop signal (with `handleSignals`) or until the task is cancelled; either
    /// way the shutdown is graceful. `onListening` receives the metrics port when `config.listen` is set.
    public func run(
        handleSignals: Bool, onStarted: @Sendable () -> Void = {}, onListening: @escaping @Sendable (Int) async -> Void = { _ in }
    ) async throws(RenderError) {
        let current = CurrentWatcher(try Self.prepare(config, metrics: metrics, logger: logger))
        var services: [any Service] = [
            WatcherService(current: current),
            ReloadService(current: current, configFile: config.file, metrics: metrics, handleSignals: handleSignals, logger: logger),
        ]
        if let listen = config.listen {
            guard let address = ListenAddress(listen) else { throw RenderError(.state, "listen must be HOST:PORT, got \(listen)") }
            services.append(
                Application(
                    router: RendererRouter.make(metrics: metrics, current: current),
                    server: HTTPServerLimits().http1(),
                    configuration: ApplicationConfiguration(address: .hostname(address.host, port: address.port), serverName: "git2kv-render"),
                    onServerRunning: { channel in await onListening(channel.localAddress?.port ?? 0) },
                    logger: logger))
        }
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: services, gracefulShutdownSignals: handleSignals ? [.sigterm, .sigint] : [], logger: logger))
        onStarted()
        do {
            if handleSignals {
                try await group.run()
            } else {
                try await group.runShuttingDownGracefullyOnCancel()
            }
        } catch {
            await current.stop()
            throw RenderError(.state, "the metrics listener stopped: \(error)")
        }
    }

    /// A watcher for `config`, not yet running.
    static func prepare(_ config: RendererConfig, metrics: RendererMetrics, logger: Logger) throws(RenderError) -> RenderWatcher {
        let store: any KVStore
        do {
            store = try KVConnection.open(config.kv, token: nil)
        } catch {
            throw RenderError(.kv, error.description)
        }
        let outputs = OutputSet(config: config)
        for error in outputs.loadErrors {
            logger.error("template cannot be used; its outputs keep their files", metadata: ["error": "\(error.message)"])
        }
        let state = try RenderState.load(from: config.stateDirectory)
        return RenderWatcher(outputs: outputs, store: store, state: state, logger: logger, metrics: metrics)
    }
}

/// Runs the watcher of the configuration in force until graceful shutdown, then stops it
/// (a delivery under way finishes first).
struct WatcherService: Service {
    let current: CurrentWatcher

    func run() async throws {
        await current.launch()
        try? await gracefulShutdown()
        await current.stop()
    }
}

/// SIGHUP: loads the configuration file again and swaps the watcher when the new one is whole.
struct ReloadService: Service {
    let current: CurrentWatcher
    let configFile: String
    let metrics: RendererMetrics
    let handleSignals: Bool
    let logger: Logger

    func run() async throws {
        guard handleSignals else {
            try? await gracefulShutdown()
            return
        }
        let hangups = await UnixSignalsSequence(trapping: .sighup)
        await cancelWhenGracefulShutdown {
            for await _ in hangups { await reload() }
        }
    }

    private func reload() async {
        logger.info("SIGHUP: reloading the configuration", metadata: ["config": "\(configFile)"])
        do {
            let fresh = try RendererConfig.load(file: configFile)
            let next = try RendererRunner.prepare(fresh, metrics: metrics, logger: logger)
            await current.replace(with: next)
        } catch {
            logger.error("configuration refused; the running one stays", metadata: ["error": "\(error)"])
        }
    }
}

/// The watcher of the configuration in force; a reload stops the old one before the new one starts,
/// so two never write the same file at once.
actor CurrentWatcher {
    private(set) var watcher: RenderWatcher
    private var task: Task<Void, Never>?

    init(_ watcher: RenderWatcher) {
        self.watcher = watcher
    }

    func launch() {
        let watcher = watcher
        task = Task { await watcher.run() }
    }

    func replace(with next: RenderWatcher) async {
        await stop()
        watcher = next
        launch()
    }

    func stop() async {
        task?.cancel()
        await task?.value
        task = nil
    }
}
