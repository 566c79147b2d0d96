import Foundation
import GitKit

/// The demo's directory: a local config repository made from an example, the two
/// configurations pointing at the embedded kv-server, state, and the rendered files.
struct DemoWorkspace {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    let root: String
    let repository: GitRepository
    var repositoryPath: String { root + "/config" }
    var rendered: String { root + "/rendered" }
    var settingsPath: String { repositoryPath + "/apps/web/settings.json" }

    static let author = "git2kv demo"
    static let email = "demo@git2kv.invalid"

    /// Copies `examples`' `repo/` into a new repository at `<root>/config` and commits it, and
    /// its `templates/` next to it.
    static func create(at directory: String?, from examples: String) async throws -> DemoWorkspace {
        let files = FileManager.default
        guard files.fileExists(atPath: examples + "/repo"), files.fileExists(atPath: examples + "/templates") else {
            throw Failure(description: "no example at \(examples) (it needs repo/ and templates/): run from the git2kv checkout or pass --examples DIR")
        }
        let root = directory ?? files.temporaryDirectory.appendingPathComponent("git2kv-demo-\(UUID().uuidString.prefix(8))").path
        guard !files.fileExists(atPath: root + "/config") else {
            throw Failure(description: "\(root) already holds a demo; pass another --directory")
        }
        try files.createDirectory(atPath: root + "/rendered", withIntermediateDirectories: true)
        try files.copyItem(atPath: examples + "/templates", toPath: root + "/templates")
        let repository = try GitRepository.createWorkingRepository(at: root + "/config")
        for item in try files.contentsOfDirectory(atPath: examples + "/repo") {
            try files.copyItem(atPath: examples + "/repo/" + item, toPath: root + "/config/" + item)
        }
        _ = try await repository.commitWorkingTree(message: "Initial configuration from the git2kv demo", author: author, email: email)
        return DemoWorkspace(root: root, repository: repository)
    }

    /// Writes the daemon's configuration and returns its path.
    func writeDaemonConfig(kvAddress: String) throws -> String {
        let path = root + "/git2kv.yaml"
        try """
            kv: { address: "\(kvAddress)" }
            state_dir: \(root)/state
            http: { listen: "127.0.0.1:0" }
            ha: { enabled: false }
            repos:
              - name: demo
                url: "file://\(repositoryPath)"
                branches: [main]
                poll_interval: 1s
                mappings:
                  - { source: apps, prefix: demo/apps }

            """.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// Writes the renderer's configuration and returns its path.
    func writeRendererConfig(kvAddress: String) throws -> String {
        let path = root + "/render.yaml"
        try """
            kv: { address: "\(kvAddress)" }
            state_dir: \(root)/render-state
            wait: { min: 100ms, max: 1s }
            outputs:
              - bundle: demo/apps/web
                template: \(root)/templates/web.conf.mustache
                destination: \(rendered)/web.conf
              - bundle: demo/apps/web
                file: settings.json
                destination: \(rendered)/settings.json

            """.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// Changes the greeting in settings.json and commits it, as a user would with git.
    func commitGreeting(_ greeting: String) async throws -> ObjectID {
        let text = try String(contentsOfFile: settingsPath, encoding: .utf8)
        let pattern = try NSRegularExpression(pattern: #""greeting": "[^"]*""#)
        let replaced = pattern.stringByReplacingMatches(
            in: text, range: NSRange(text.startIndex..., in: text), withTemplate: "\"greeting\": \"\(greeting)\"")
        try replaced.write(toFile: settingsPath, atomically: true, encoding: .utf8)
        return try await repository.commitWorkingTree(message: "Change the greeting to \(greeting)", author: Self.author, email: Self.email)
    }

    func renderedText(_ name: String) -> String? {
        FileManager.default.contents(atPath: rendered + "/" + name).map { String(decoding: $0, as: UTF8.self) }
    }
}
