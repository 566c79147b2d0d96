import ArgumentParser
import CommandSupport
import Foundation
import Pipeline

/// `git2kv status`: per mapping, the live commit against the branch head.
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show, per mapping, the live commit against the branch head, commits behind, last sync and errors.",
        discussion: "Exit status: 0 when every mapping could be read, 1 otherwise."
    )

    @OptionGroup var options: DaemonConfigOption

    @Flag(help: "Use the local mirrors as they are, without fetching.")
    var noFetch = false

    @Flag(help: "Print JSON (what the daemon's /status serves).")
    var json = false

    @Option(name: .customLong("rollout"), help: ArgumentHelp(
        "Show who runs which commit under a mapping prefix (or one bundle, PREFIX/BUNDLE), from the nodes' delivery reports.",
        valueName: "PREFIX[/BUNDLE]"))
    var rollout: String?

    func run() async throws {
        if let rollout {
            try await showRollout(rollout)
            return
        }
        var runner = SyncRunner(config: options.load(), fetcher: .workerProcess)
        runner.fetch = !noFetch
        let (statuses, warnings) = await runner.statuses()
        for warning in warnings { Output.error("warning: \(warning)") }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            Output.line(String(decoding: try encoder.encode(statuses), as: UTF8.self))
        } else {
            Output.line(statuses.map(\.text).joined(separator: "\n\n"))
        }
        if statuses.contains(where: { $0.problem != nil }) {
            Foundation.exit(1)
        }
    }

    private func showRollout(_ argument: String) async throws {
        do {
            let status = try await RolloutStatus.read(config: options.load(), argument: argument)
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
                Output.line(String(decoding: try encoder.encode(status), as: UTF8.self))
            } else {
                Output.line(status.text)
            }
        } catch let error as SyncError {
            Output.exit("error: \(error)")
        }
    }
}
