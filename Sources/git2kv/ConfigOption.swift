import ArgumentParser
import Foundation
import Pipeline

/// `--config FILE` for the commands that read the daemon configuration.
struct DaemonConfigOption: ParsableArguments {
    @Option(name: .long, help: "The git2kv YAML configuration, or a git2consul config.json.")
    var config: String

    /// The configuration, with its warnings printed; a file that cannot be used ends the command
    /// with `file:line: reason` and exit status 1.
    func load() -> DaemonConfig {
        do {
            let loaded = try DaemonConfig.load(file: config)
            for warning in loaded.warnings { Output.error("warning: \(warning)") }
            return loaded
        } catch {
            Output.exit(error.description)
        }
    }
}

enum Output {
    static func line(_ text: String) {
        FileHandle.standardOutput.write(Data((text + "\n").utf8))
    }

    static func error(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }

    /// Prints why the command cannot go on and exits with status 1 (ArgumentParser would add usage help).
    static func exit(_ message: String) -> Never {
        error(message)
        Foundation.exit(1)
    }
}
