import Daemon
import Logging

/// Logging for the long-running commands: text on stderr, or one JSON object per line.
enum LogSetup {
    static func bootstrap(label: String, level: String, json: Bool) -> Logger {
        guard let level = Logger.Level(rawValue: level) else {
            Output.exit("error: --log-level must be one of \(Logger.Level.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        LoggingSystem.bootstrap { label in
            var handler: any LogHandler = json ? JSONLogHandler(label: label) : StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        return Logger(label: label)
    }
}
