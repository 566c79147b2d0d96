import ArgumentParser
import CommandSupport
import Foundation
import Pipeline

/// `git2kv validate`: the sync's checks on a working tree, for the config repo's CI.
struct ValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check a working tree as sync would: JSON and YAML parse, sizes, text, symlinks that stay inside.",
        discussion: "Prints one `file:line: reason` line per problem. Exit status: 0 when clean, 1 when a problem was found."
    )

    @Option(help: "A git2kv configuration: check each mapping's source with its own rules (default: the whole tree, default rules).")
    var config: String?

    @Argument(help: "The working tree to check.")
    var path: String = "."

    func run() throws {
        var loaded: DaemonConfig?
        if let config {
            do { loaded = try DaemonConfig.load(file: config) } catch { Output.exit(error.description) }
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else {
            Output.exit("\(path): not a directory")
        }
        let problems = WorkingTreeValidator(root: path, config: loaded).problems()
        for problem in problems { Output.line(problem.description) }
        if !problems.isEmpty { Foundation.exit(1) }
    }
}
