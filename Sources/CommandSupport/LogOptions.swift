import ArgumentParser
package import Logging

/// `--log-level` and `--json-logs` of the long-running commands: text on stderr, or one JSON object per line.
package struct LogOptions: ParsableArguments {
    @Option(help: "Log level: trace, debug, info, notice, warning, error or critical.")
    var logLevel: String = "info"

    @Flag(help: "Log one JSON object per line instead of text.")
    var jsonLogs = false

    package init() {}

    package func bootstrap(label: String) -> Logger {
        guard let level = Logger.Level(rawValue: logLevel) else {
            Output.exit("error: --log-level must be one of \(Logger.Level.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let json = jsonLogs
        LoggingSystem.bootstrap { label in
            var handler: any LogHandler = json ? JSONLogHandler(label: label) : StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        return Logger(label: label)
    }
}
