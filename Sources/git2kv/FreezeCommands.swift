import ArgumentParser
import CommandSupport
import Foundation
import Pipeline

/// `git2kv freeze <prefix> --reason TEXT`
struct FreezeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "freeze",
        abstract: "Stop every replica from syncing a mapping prefix until it is unfrozen (shown in status)."
    )

    @OptionGroup var options: DaemonConfigOption

    @Argument(help: "The mapping's KV prefix, as `status` shows it.")
    var prefix: String

    @Option(help: "Why, for the audit trail and status.")
    var reason: String

    func run() async throws {
        let control = PrefixControl(config: options.load(), fetcher: .workerProcess)
        do {
            let record = try await control.freeze(prefix, reason: reason)
            Output.line("\(prefix): \(record.summary)")
        } catch {
            Output.exit("error: freeze \(prefix): \(error)")
        }
    }
}

/// `git2kv unfreeze <prefix>`
struct UnfreezeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "unfreeze",
        abstract: "Let a frozen prefix sync again; the next sync brings it to the branch head."
    )

    @OptionGroup var options: DaemonConfigOption

    @Argument(help: "The mapping's KV prefix.")
    var prefix: String

    func run() async throws {
        let control = PrefixControl(config: options.load(), fetcher: .workerProcess)
        do {
            if let record = try await control.unfreeze(prefix) {
                Output.line("\(prefix): unfrozen (was \(record.summary))")
            } else {
                Output.line("\(prefix): was not frozen")
            }
        } catch {
            Output.exit("error: unfreeze \(prefix): \(error)")
        }
    }
}

/// `git2kv rollback <prefix> --to COMMIT`
struct RollbackCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rollback",
        abstract: "Freeze a prefix and write an earlier commit's bundles to it in one guarded transaction.",
        discussion: "The state records the write as a rollback. The prefix stays frozen until `git2kv unfreeze`."
    )

    @OptionGroup var options: DaemonConfigOption

    @Argument(help: "The mapping's KV prefix.")
    var prefix: String

    @Option(help: "The commit to go back to: an id (abbreviated is fine), a tag or a revision like main~1.")
    var to: String

    @Option(help: "Why, for the audit trail (default: \"rollback to <commit>\").")
    var reason: String?

    @Flag(help: "Use the local mirror as it is, without fetching when the commit is missing.")
    var noFetch = false

    func run() async throws {
        let control = PrefixControl(config: options.load(), fetcher: .workerProcess)
        do {
            let result = try await control.rollback(prefix, to: to, reason: reason, fetch: !noFetch)
            Output.line(SyncReportText.line(for: result).replacingOccurrences(of: ": synced ", with: ": rolled back to "))
            for problem in result.plan.outstandingErrors { Output.error("error: \(problem) — the bundle keeps its last good value") }
            Output.line("\(prefix) stays frozen; `git2kv unfreeze \(prefix)` resumes syncing from the branch head")
        } catch {
            Output.exit("error: rollback \(prefix): \(error)")
        }
    }
}
