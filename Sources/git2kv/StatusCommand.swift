import ArgumentParser
import Foundation
import KV
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

    func run() async throws {
        let config: DaemonConfig
        do { config = try options.load() } catch let failure as CommandFailure { Output.exit(failure) }
        let runner = SyncRunner(config: config)
        var statuses: [MappingStatus] = []
        for repo in config.repos {
            let repository = try? runner.mirror(of: repo)
            if let repository, !noFetch {
                do { _ = try await repository.fetch(credentials: repo.credentials) } catch { Output.error("warning: fetch \(repo.name): \(error)") }
            }
            for (reference, isTag) in repo.branches.map({ ($0, false) }) {
                for mapping in repo.mappings {
                    let target = MappingTarget(repo: repo.name, reference: reference, isTag: isTag, mapping: mapping)
                    do {
                        let kv = try KVConnection.open(config.kv, token: mapping.token)
                        statuses.append(await MappingStatus.read(target: target, kv: kv, repository: repository))
                    } catch {
                        var status = MappingStatus.unreadable(target)
                        status.problem = error.description
                        statuses.append(status)
                    }
                }
            }
        }
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
}
