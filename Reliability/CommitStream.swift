import Foundation
import TestFixtures

/// Makes commits to the origin while the chaos runs: settings and upstreams of `apps/web`,
/// properties of `apps/api`, service bundles that come and go, a blob big enough to be chunked,
/// and plain files for the `files` layout. Each commit's tree is recorded in the history first.
final class CommitStream: @unchecked Sendable {
    private let repository: FixtureRepository
    private let history: ConfigHistory
    private let workspace: ChaosWorkspace
    private var generator: SeededGenerator
    private var tree: ConfigHistory.Tree = [:]
    private var revision = 0

    init(repository: FixtureRepository, history: ConfigHistory, workspace: ChaosWorkspace, seed: UInt64) {
        self.repository = repository
        self.history = history
        self.workspace = workspace
        generator = SeededGenerator(seed: seed)
    }

    /// The first commit: every kind of file present.
    func commitInitial() throws {
        var changes: [FixtureChange] = []
        changes += set("apps/web/settings.json", settings())
        changes += set("apps/web/upstreams.yaml", upstreams())
        changes += set("apps/api/app.properties", properties())
        changes += set("apps/big/blob.txt", blob())
        changes += set("flat/motd.txt", Array("value-0".utf8))
        changes += set("flat/service/limits.txt", Array("value-0".utf8))
        try commit("Initial configuration", changes)
    }

    /// One commit of one to three random changes (sometimes none: an empty commit).
    func commitNext() throws {
        revision += 1
        var changes: [FixtureChange] = []
        for _ in 0..<Int.random(in: 1...3, using: &generator) {
            changes += randomChange()
        }
        try commit("Change \(revision)", changes)
    }

    private func randomChange() -> [FixtureChange] {
        switch Int.random(in: 0..<100, using: &generator) {
        case 0..<30: return set("apps/web/settings.json", settings())
        case 30..<40: return set("apps/web/upstreams.yaml", upstreams())
        case 40..<55: return set("apps/api/app.properties", properties())
        case 55..<65: return toggleService()
        case 65..<72: return set("apps/big/blob.txt", blob())
        case 72..<95: return changeFlatFile()
        default: return []
        }
    }

    private func settings() -> [UInt8] {
        Array("{\n  \"greeting\": \"hello-\(revision)\",\n  \"port\": \(8000 + revision % 1000)\n}\n".utf8)
    }

    private func upstreams() -> [UInt8] {
        let count = Int.random(in: 1...4, using: &generator)
        let lines = (0..<count).map { _ in "  - 10.0.\(Int.random(in: 0...9, using: &generator)).\(Int.random(in: 1...254, using: &generator)):80" }
        return Array(("backends:\n" + lines.joined(separator: "\n") + "\n").utf8)
    }

    private func properties() -> [UInt8] {
        Array("workers=\(Int.random(in: 1...64, using: &generator))\nname=api\nrevision=\(revision)\n".utf8)
    }

    /// About 800 KB of base64 text: over Consul's 512 KiB value limit even compressed.
    private func blob() -> [UInt8] {
        let random = (0..<600_000).map { _ in UInt8.random(in: 0...255, using: &generator) }
        return Array(Data(random).base64EncodedString(options: .lineLength76Characters).utf8) + [10]
    }

    private func toggleService() -> [FixtureChange] {
        let number = Int.random(in: 1...5, using: &generator)
        let path = "apps/svc\(number)/conf.json"
        if tree[path] != nil {
            tree[path] = nil
            return [.delete(path)]
        }
        return set(path, Array("{\"service\": \(number), \"revision\": \(revision)}\n".utf8))
    }

    private func changeFlatFile() -> [FixtureChange] {
        let paths = ["flat/motd.txt", "flat/service/limits.txt", "flat/service/timeouts.txt", "flat/extra/\(revision % 4).txt"]
        let path = paths[Int.random(in: 0..<paths.count, using: &generator)]
        if tree[path] != nil, Bool.random(using: &generator) {
            tree[path] = nil
            return [.delete(path)]
        }
        return set(path, Array("value-\(revision)".utf8))
    }

    private func set(_ path: String, _ content: [UInt8]) -> [FixtureChange] {
        tree[path] = content
        return [.write(path, content)]
    }

    private func commit(_ message: String, _ changes: [FixtureChange]) throws {
        history.register(renders: ExpectedRender.outputs(of: tree, in: workspace))
        let id = try repository.commit(message, changes: changes)
        history.append(commit: id, tree: tree)
    }
}
