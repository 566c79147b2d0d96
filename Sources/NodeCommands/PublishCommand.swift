package import ArgumentParser
import CommandSupport
import BundleFormat
import Foundation
import KV
import Renderer
import ServiceLifecycle
import ConfigParsing

/// `git2kv publish`: local generated files as one bundle at a key (kvexpress's `in`).
package struct PublishCommand: AsyncParsableCommand {
    package static let configuration = CommandConfiguration(
        commandName: "publish",
        abstract: "Publish local files as one bundle at KEY, only when their content changed (min_lines and stop_key guard it).",
        discussion: """
            The key has one owner (this node unless --owner): another owner's publish is refused unless --take-over; a key \
            that git2kv sync writes is never published over. Exit status: 0 when published, unchanged or held back by the \
            stop key; 1 when a guard refused the files or KV failed.
            """
    )

    @Option(name: .long, help: "The publisher's YAML configuration (kv, min_lines, stop_key).")
    var config: String

    @Option(name: .long, help: "The bundle key to publish at (under the token's prefix).")
    var key: String

    @Argument(help: "The files; each is stored under its file name.")
    var files: [String]

    @Option(name: .long, help: "Who publishes, recorded in the bundle (default: this node's host name). Another owner's publish to the key is refused.")
    var owner: String?

    @Flag(name: .long, help: "Publish even though another owner published the key last, and become its owner.")
    var takeOver = false

    package init() {}

    package func run() async throws {
        let loaded: PublisherConfig
        do {
            loaded = try PublisherConfig.load(file: config)
        } catch {
            Output.exit(error.description)
        }
        var bundleFiles: [BundleFile] = []
        for path in files {
            guard let data = FileManager.default.contents(atPath: path) else { Output.exit("error: cannot read \(path)") }
            let name = URL(fileURLWithPath: path).lastPathComponent
            guard !bundleFiles.contains(where: { $0.path == name }) else { Output.exit("error: two files are named \(name)") }
            bundleFiles.append(BundleFile(path: name, content: [UInt8](data)))
        }
        let store: any KVStore
        do {
            store = try KVConnection.open(loaded.kv, token: nil)
        } catch {
            Output.exit("error: \(error)")
        }
        let publisher = BundlePublisher(
            store: store, key: key, minLines: loaded.minLines, stopKey: loaded.stopKey, owner: owner ?? ProcessInfo.processInfo.hostName,
            takeOver: takeOver)
        do {
            let outcome = try await publisher.publish(
                bundleFiles, source: BundleSource(repo: "git2kv-publish", branch: "", path: key),
                summary: "published by git2kv publish: \(bundleFiles.map(\.path).joined(separator: ", "))")
            switch outcome {
            case .published(let digest): Output.line("published \(key) (digest \(digest.prefix(12)))")
            case .unchanged(let digest): Output.line("unchanged \(key) (digest \(digest.prefix(12)))")
            case .stopped(let reason): Output.line("skipped \(key): \(reason)")
            }
        } catch {
            Output.exit("error: \(error.message)")
        }
    }
}
