import Foundation

/// What a command prints: results on standard output, problems on standard error.
package enum Output {
    package static func line(_ text: String) {
        FileHandle.standardOutput.write(Data((text + "\n").utf8))
    }

    package static func error(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }

    /// Prints why the command cannot go on and exits with status 1 (ArgumentParser would add usage help).
    package static func exit(_ message: String) -> Never {
        error(message)
        Foundation.exit(1)
    }
}
