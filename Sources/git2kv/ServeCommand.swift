import ArgumentParser
import Daemon
import Foundation
import Logging
import Pipeline

/// `git2kv serve`: the long-running daemon.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Keep KV in step with git: poll, take verified webhooks, sync with one leader per repo, serve /health /metrics /status.",
        discussion: "SIGHUP reloads the configuration (a bad file is refused and the running one stays); SIGTERM finishes the running transactions and exits."
    )

    @OptionGroup var options: DaemonConfigOption

    @Option(help: "Log level: trace, debug, info, notice, warning, error or critical.")
    var logLevel: String = "info"

    @Flag(help: "Log one JSON object per line instead of text.")
    var jsonLogs = false

    func run() async throws {
        let config = options.load()
        let logger = LogSetup.bootstrap(label: "git2kv.serve", level: logLevel, json: jsonLogs)
        let server = DaemonServer(config: config, logger: logger)
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
