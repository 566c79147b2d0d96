import ArgumentParser
import Foundation
import CommandSupport
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
