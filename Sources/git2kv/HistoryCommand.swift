import ArgumentParser
import CommandSupport
import Foundation
import Pipeline
import ConfigParsing

/// `git2kv history <prefix>/<bundle>`: the live value tied to `git log`.
struct HistoryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "history",
        abstract: "Show the live commit of a bundle and the git log of its files, marking the live one."
    )

    @OptionGroup var options: DaemonConfigOption

    @Flag(help: "Use the local mirror as it is, without fetching.")
    var noFetch = false

    @Option(help: "How many commits to show.")
    var limit = 20

    @Argument(help: "The bundle's KV key, <prefix>/<bundle>.")
    var key: String

    func run() async throws {
        let config = options.load()
        guard let (target, bundle) = BundleHistory.locate(key, in: config),
            let repo = config.repos.first(where: { $0.name == target.repo })
        else {
            Output.exit("\(key) is not under any mapping's prefix in \(config.file)")
        }
        let runner = SyncRunner(config: config, fetcher: .workerProcess)
        do {
            let history = try await runner.withMirror(of: repo) { repository throws(SyncError) in
                if !noFetch {
                    do { try await runner.fetch(repo, into: repository) } catch { Output.error("warning: fetch \(repo.name): \(error)") }
                }
                let kv = try KVConnection.openForSync(config.kv, token: target.mapping.token)
                return try await BundleHistory.read(key: key, target: target, bundle: bundle, kv: kv, repository: repository, limit: limit)
            }
            Output.line(history.text)
        } catch {
            Output.exit(error.description)
        }
    }
}
