import ArgumentParser
import Foundation
import Pipeline

/// `--config FILE` for the commands that read the daemon configuration.
struct DaemonConfigOption: ParsableArguments {
    @Option(name: .long, help: "The git2kv YAML configuration, or a git2consul config.json.")
    var config: String

    func load() throws -> DaemonConfig {
        do {
            let loaded = try DaemonConfig.load(file: config)
            for warning in loaded.warnings { Output.error("warning: \(warning)") }
            return loaded
        } catch {
            throw CommandFailure(error.description)
        }
    }
}

/// A failure already explained on standard error: exit with `code`, no usage text.
struct CommandFailure: Error, CustomStringConvertible {
    let message: String
    var code: Int32 = 1

    init(_ message: String, code: Int32 = 1) {
        self.message = message
        self.code = code
    }

    var description: String { message }
}

enum Output {
    static func line(_ text: String) {
        FileHandle.standardOutput.write(Data((text + "\n").utf8))
    }

    static func error(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }

    /// Prints the failure and exits with its code (ArgumentParser would add usage help).
    static func exit(_ failure: CommandFailure) -> Never {
        error(failure.message)
        Foundation.exit(failure.code)
    }
}
