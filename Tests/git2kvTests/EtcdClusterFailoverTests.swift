import BundleFormat
import Foundation
import KV
import Pipeline
import TestFixtures
import Testing

/// `git2kv serve` and `git2kv render` on a real 3-member etcd cluster whose leader is killed
/// while commits flow.
@Suite("etcd cluster failover (end to end)", .serialized)
struct EtcdClusterFailoverTests {
    @Test("kill -9 the etcd leader mid-stream of commits: sync completes, KV equals git, nothing applied twice, the renderer follows")
    func leaderKilledDuringCommits() async throws {
        let cluster = try EtcdCluster(size: 3)
        defer { cluster.stop() }
        try await cluster.waitUntilReady()
        let directory = try TemporaryDirectory(prefix: "git2kv-etcd-failover")
        defer { directory.remove() }
        let repository = try FixtureRepository(at: directory.appending("origin.git"))
        try repository.commit("initial", changes: [.text("apps/web/port", "0"), .text("apps/api/port", "0")])

        // Both processes talk to the leader first, so killing it breaks their connections and watches.
        let leader = try await cluster.leader()
        let endpoints = [leader.clientURL] + cluster.endpoints.filter { $0 != leader.clientURL }
        let kvSetting = "{ backend: etcd, endpoints: [\(endpoints.map { "\"\($0)\"" }.joined(separator: ", "))], timeout: 5s }"
        let daemonConfig = directory.appending("git2kv.yaml")
        try DaemonConfigText.yaml(
            kvAddress: endpoints[0], kvSetting: kvSetting, stateDirectory: directory.appending("state"), repoURL: repository.url,
            mappings: "[{source: apps, prefix: config/apps}]", repoSettings: ["poll_interval: 1s"],
            topLevel: ["http: { listen: \"127.0.0.1:0\" }", "ha: { session_ttl: 5s, lock_delay: 0s }"]
        ).write(toFile: daemonConfig, atomically: true, encoding: .utf8)
        let delivered = directory.appending("port.txt")
        let seen = directory.appending("seen.log")
        let renderConfig = directory.appending("render.yaml")
        try """
            kv: \(kvSetting)
            state_dir: \(directory.appending("render-state"))
            wait: { min: 50ms, max: 500ms }
            outputs:
              - bundle: config/apps/web
                file: port
                destination: \(delivered)
                command: ["/bin/sh", "-c", "cat \(delivered) >> \(seen); echo >> \(seen)"]

            """.write(toFile: renderConfig, atomically: true, encoding: .utf8)

        let kv = EtcdClient(.init(endpoints: endpoints.reversed(), requestTimeout: .seconds(5)))
        let serve = try BackgroundProcess(Git2KVBinary.path, ["serve", "--config", daemonConfig, "--log-level", "error"])
        defer { serve.kill() }
        try await eventually("the first sync", timeout: .seconds(30)) { try await liveCommit(kv) == repository.head() }
        let render = try BackgroundProcess(Git2KVBinary.path, ["render", "--config", renderConfig, "--log-level", "error"])
        defer { render.kill() }
        try await eventually("the first render", timeout: .seconds(30)) { read(delivered) == "0" }

        var history = [try repository.head()]
        var apiPort = "0"
        for round in 1...20 {
            var changes: [FixtureChange] = [.text("apps/web/port", "\(round)")]
            if round % 3 == 0 {
                apiPort = "\(round)"
                changes.append(.text("apps/api/port", apiPort))
            }
            history.append(try repository.commit("round \(round)", changes: changes))
            if round == 6 { cluster.kill(leader) }
            try await Task.sleep(for: .milliseconds(200))
        }
        let head = history.last!
        try await eventually("the sync of the last commit after the election", timeout: .seconds(60)) { try await liveCommit(kv) == head }
        try await eventually("the renderer to deliver the last change", timeout: .seconds(60)) { read(delivered) == "20" }
        #expect(serve.isRunning && render.isRunning)
        #expect(try await cluster.leader().name != leader.name)

        // KV equals git: exactly the two bundles (and the control keys), with the head's files.
        let keys = Set(try await kv.keys(prefix: "config/apps/", separator: nil, options: .default).value)
        #expect(keys.subtracting(["config/apps/.git2kv/leader"]) == ["config/apps/web", "config/apps/api", "config/apps/.git2kv/state"])
        let web = try BundleDecoder.decode(try #require(try await kv.get("config/apps/web").value).value)
        let api = try BundleDecoder.decode(try #require(try await kv.get("config/apps/api").value).value)
        #expect(web.file(at: "port")?.text == "20")
        #expect(api.file(at: "port")?.text == apiPort)
        #expect(web.commit.id == head)

        // Nothing applied twice: every state write names a later commit than the one before,
        // and every write of a bundle changed its content.
        let states = try await cluster.history(of: "config/apps/.git2kv/state").map { try SyncState.decode(Array($0)).commit.id }
        let positions = states.compactMap { history.firstIndex(of: $0) }
        #expect(positions.count == states.count, "the state named commits that are not on the branch")
        #expect(positions == positions.sorted() && Set(positions).count == positions.count, "a commit was applied twice or out of order: \(positions)")
        let webPorts = try await cluster.history(of: "config/apps/web").map { try BundleDecoder.decode(Array($0)).file(at: "port")?.text ?? "" }
        #expect(zip(webPorts, webPorts.dropFirst()).allSatisfy { $0 != $1 }, "a bundle was rewritten with the same content: \(webPorts)")

        // The renderer ran its command once per delivered change and ended on the head.
        let runs = (read(seen) ?? "").split(separator: "\n").map(String.init)
        #expect(runs.last == "20")
        #expect(zip(runs, runs.dropFirst()).allSatisfy { $0 != $1 }, "the command ran twice for one content: \(runs)")
        serve.kill(SIGTERM)
        render.kill(SIGTERM)
    }

    private func liveCommit(_ kv: EtcdClient) async throws -> String? {
        guard let entry = try? await kv.get("config/apps/.git2kv/state").value else { return nil }
        return try SyncState.decode(entry.value).commit.id
    }

    private func read(_ path: String) -> String? {
        FileManager.default.contents(atPath: path).map { String(decoding: $0, as: UTF8.self) }
    }
}
