import ArgumentParser
import CommandSupport
import Daemon
import Foundation
import Pipeline

/// `git2kv serve`: the long-running daemon.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Keep KV in step with git: poll, take verified webhooks, sync with one leader per repo, serve /health /metrics /status.",
        discussion: "SIGHUP reloads the configuration (a bad file is refused and the running one stays); SIGTERM finishes the running transactions and exits."
    )

    @OptionGroup var options: DaemonConfigOption

    @OptionGroup var logging: LogOptions

    func run() async throws {
        let config = options.load()
        let logger = logging.bootstrap(label: "git2kv.serve")
        let server: DaemonServer
        do {
            server = try DaemonServer(config: config, logger: logger, fetcher: .workerProcess)
        } catch {
            Output.exit("error: \(error)")
        }
        do {
            let host = try DaemonServer.hostAndPort(config.serve.listen).host
            try await server.run(handleSignals: true) { port in
                Output.line("git2kv serve listening on \(host):\(port) (webhooks, /health, /metrics, /status)")
            }
        } catch let error as DaemonError {
            Output.exit("error: \(error)")
        }
    }
}
