import ArgumentParser
import CommandSupport
import Foundation
import Pipeline

/// `git2kv sync`: one pass over every mapping of the configuration.
struct SyncCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sync",
        abstract: "Fetch every configured repository once and write each mapping's changes to KV in one guarded transaction.",
        discussion: "Exit status: 0 when every mapping is in sync, 1 when a mapping failed or a bundle kept its last good value because of a bad file."
    )

    @OptionGroup var options: DaemonConfigOption

    @Flag(help: "Print what would be written and deleted (keys, bytes) and write nothing.")
    var dryRun = false

    @Flag(help: "Use the local mirrors as they are, without fetching.")
    var noFetch = false

    func run() async throws {
        let config = options.load()
        var runner = SyncRunner(config: config, fetcher: .workerProcess)
        runner.fetch = !noFetch
        if isatty(STDERR_FILENO) == 1 { runner.progress = { Output.error($0) } }
        let report = await runner.run(dryRun: dryRun)
        for result in report.results {
            if dryRun {
                Output.line(result.plan.summary)
            } else {
                Output.line(SyncReportText.line(for: result))
                for problem in result.plan.outstandingErrors { Output.error("error: \(problem) — the bundle keeps its last good value") }
                for drift in result.plan.drift { Output.line("  drift repaired: \(drift)") }
            }
        }
        for failure in report.failures {
            Output.error("\(failure.error.kind == .frozen ? "skipped" : "error"): \(failure.what): \(failure.error)")
        }
        if !report.succeeded { Foundation.exit(1) }
    }
}

enum SyncReportText {
    static func line(for result: MappingResult) -> String {
        let plan = result.plan
        let target = result.target.description
        if let stage = result.stage {
            let what = result.staged ? "staged \(stage.commit.prefix(12)) for canary nodes (\(stage.bundles.count) bundle(s), \(result.transactions) transaction(s))"
                : "\(stage.commit.prefix(12)) is in its canary stage (\(stage.phase))"
            return "\(target): \(what); the fleet keeps \(stage.liveCommit?.prefix(12) ?? "its live commit") until `git2kv serve` promotes it"
        }
        guard !plan.isEmpty else { return "\(target): up to date at \(plan.head.prefix(12))" }
        var parts = ["\(plan.writes.count) bundle(s) written", "\(plan.deletes.count) deleted", "\(plan.unchangedBundles) unchanged"]
        parts.append("\(result.transactions) transaction(s), \(result.bytesWritten) bytes")
        if result.retries > 0 { parts.append("\(result.retries) retry(ies) after a concurrent write") }
        let mode = plan.mode == .fullCompare ? " (full compare: \(plan.reason))" : ""
        return "\(target): synced \(plan.head.prefix(12))\(mode): " + parts.joined(separator: ", ")
    }
}
