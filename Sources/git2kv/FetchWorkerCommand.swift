import ArgumentParser
import CommandSupport
import Foundation
import GitKit
import Pipeline

/// `git2kv fetch-worker`: one fetch for a parent git2kv process, which stops it at the repo's
/// deadlines. The request comes on standard input, events go out as JSON lines. Not for people.
struct FetchWorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fetch-worker", abstract: "Run one fetch for a parent git2kv process (internal).", shouldDisplay: false)

    func run() async throws {
        let request = Array(FileHandle.standardInput.readDataToEndOfFile())
        await FetchWorker.serve(request: request) { line in
            FileHandle.standardOutput.write(Data((line + "\n").utf8))
        }
    }
}

extension MirrorFetcher {
    /// Every command fetches in a child process of this binary, stopped at the repo's deadlines.
    static var workerProcess: MirrorFetcher { .isolated(IsolatedFetcher()) }
}
