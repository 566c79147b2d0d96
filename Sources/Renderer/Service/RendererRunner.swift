import Foundation
import Hummingbird
import KV
public import Logging
import Pipeline
import UnixSignals

/// `git2kv render` without `--once`: watch and render until SIGTERM or SIGINT; SIGHUP reloads
/// the configuration (a bad file is logged and the running configuration stays).
public struct RendererRunner: Sendable {
    public let config: RendererConfig
    public let logger: Logger
    public let metrics = RendererMetrics()

    public init(config: RendererConfig, logger: Logger) {
        self.config = config
        self.logger = logger
    }

    /// Runs until a stop signal (with `handleSignals`) or until the task is cancelled.
    /// `onListening` receives the metrics port when `config.listen` is set.
    public func run(
        handleSignals: Bool, onStarted: @Sendable () -> Void = {}, onListening: @escaping @Sendable (Int) async -> Void = { _ in }
    ) async throws(RenderError) {
        let current = CurrentWatcher(try Self.prepare(config, metrics: metrics, logger: logger))
        await current.launch()
        onStarted()
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                if let listen = config.listen {
                    guard let address = ListenAddress(listen) else { throw RenderError(.state, "listen must be HOST:PORT, got \(listen)") }
                    let application = Application(
                        router: RendererRouter.make(metrics: metrics, current: current),
                        configuration: ApplicationConfiguration(address: .hostname(address.host, port: address.port), serverName: "git2kv-render"),
                        onServerRunning: { channel in await onListening(channel.localAddress?.port ?? 0) },
                        logger: logger)
                    group.addTask { try await application.runService(gracefulShutdownSignals: []) }
                }
                if handleSignals {
                    let signals = await UnixSignalsSequence(trapping: .sighup, .sigterm, .sigint)
                    for await signal in signals {
                        guard signal == .sighup else { break }
                        await reload(current)
                    }
                } else {
                    while !Task.isCancelled { try? await Task.sleep(for: .seconds(3600)) }
                }
                await current.stop()
                group.cancelAll()
            }
        } catch let error as RenderError {
            await current.stop()
            throw error
        } catch {
            await current.stop()
            throw RenderError(.state, "the metrics listener stopped: \(error)")
        }
    }

    private func reload(_ current: CurrentWatcher) async {
        logger.info("SIGHUP: reloading the configuration", metadata: ["config": "\(config.file)"])
        do {
            let fresh = try RendererConfig.load(file: config.file)
            let next = try Self.prepare(fresh, metrics: metrics, logger: logger)
            await current.replace(with: next)
        } catch {
            logger.error("configuration refused; the running one stays", metadata: ["error": "\(error)"])
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
