import BundleFormat
import Foundation
import KV
import Pipeline
import StoreFixtures
import TestFixtures
import Testing

/// Staged rollouts as deployed: `git2kv serve` with a `rollout:` mapping, 2 canary and 5 fleet
/// `git2kv render` processes, on kv-server and on a real etcd. Every renderer checks its staged
/// file (a file containing "bad" fails the check) and reports what it delivered.
@Suite("Staged rollout (end to end)", .serialized)
struct RolloutProcessTests {
    static let canaries = ["canary-1", "canary-2"]
    static let fleet = (1...5).map { "web-\($0)" }

    struct Fleet {
        let store: E2EStore
        let directory: TemporaryDirectory
        let repository: FixtureRepository
        let configFile: String
        var renderers: [BackgroundProcess] = []

        static func start(_ backend: StoreBackend, rollout: String = "{ canary: { nodes: [\"canary-*\"], min_nodes: 2, bake: 2s }, on_failure: freeze }", ha: String = "ha: { enabled: false }") async throws -> Fleet {
            let store = try await E2EStore.start(backend)
            let directory = try TemporaryDirectory(prefix: "git2kv-rollout")
            let repository = try FixtureRepository(at: directory.appending("origin.git"))
            try repository.commit("initial", changes: [.text("apps/web/app.conf", "port=80\n")])
            let configFile = directory.appending("git2kv.yaml")
            try DaemonConfigText.yaml(
                kvAddress: store.address, kvSetting: store.kvSetting, stateDirectory: directory.appending("state"), repoURL: repository.url,
                mappings: "[{source: apps, prefix: config/apps, rollout: \(rollout)}]",
                repoSettings: ["poll_interval: 1s"],
                topLevel: ["http: { listen: \"127.0.0.1:0\" }", ha]
            ).write(toFile: configFile, atomically: true, encoding: .utf8)
            return Fleet(store: store, directory: directory, repository: repository, configFile: configFile)
        }

        func serve() throws -> BackgroundProcess {
            try BackgroundProcess(Git2KVBinary.path, ["serve", "--config", configFile, "--log-level", "warning"])
        }

        mutating func startRenderers(_ nodes: [String] = RolloutProcessTests.canaries + RolloutProcessTests.fleet) throws {
            for node in nodes {
                let home = directory.appending(node)
                try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
                let check = #"["/bin/sh", "-c", "! grep -q bad \"$1\"", "check", "{{staged}}"]"#
                let text = """
                    kv: \(store.kvSetting)
                    state_dir: \(home)/state
                    wait: { min: 50ms, max: 500ms }
                    report: { node: \(node) }
                    canary: \(node.hasPrefix("canary"))
                    outputs:
                      - {bundle: config/apps/web, file: app.conf, destination: \(home)/app.conf, check: \(check)}

                    """
                try text.write(toFile: home + "/render.yaml", atomically: true, encoding: .utf8)
                renderers.append(try BackgroundProcess(Git2KVBinary.path, ["render", "--config", home + "/render.yaml", "--log-level", "error"]))
            }
        }

        func file(_ node: String) -> String? {
            FileManager.default.contents(atPath: directory.appending(node) + "/app.conf").map { String(decoding: $0, as: UTF8.self) }
        }

        func files(_ nodes: [String]) -> [String?] { nodes.map(file) }

        func live() async throws -> String? {
            guard let entry = try await store.kv.get("config/apps/.git2kv/state").value else { return nil }
            return try SyncState.decode(entry.value).commit.id
        }

        func stage() async throws -> RolloutStage? {
            try await store.kv.get("config/apps/.git2kv/rollout").value.map { try RolloutStage.decode($0.value, key: "stage") }
        }

        func frozen() async throws -> FreezeRecord? {
            try await store.kv.get("config/apps/.git2kv/freeze").value.map { FreezeRecord.decode($0.value) }
        }

        func reports() async throws -> [String: DeliveryReport] {
            let entries = try await store.kv.list(prefix: DeliveryReport.defaultPrefix + "/").value
            return Dictionary(uniqueKeysWithValues: try entries.map { entry in
                let report = try DeliveryReport.decode(entry.value, key: entry.key)
                return (report.node, report)
            })
        }

        func stop() {
            for renderer in renderers { renderer.kill() }
            store.stop()
            directory.remove()
        }
    }

    @Test(
        "a good commit reaches the canaries, then the fleet after the bake; a failing check halts it off the fleet and freezes; a killed daemon resumes the stage",
        arguments: StoreBackend.allCases)
    func stagedRollout(backend: StoreBackend) async throws {
        var fleet = try await Fleet.start(backend)
        defer { fleet.stop() }
        var daemon = try fleet.serve()
        defer { daemon.kill() }
        let initial = try fleet.repository.head()
        try await eventually("the first commit to go live (no live commit yet: straight to the fleet)") { try await fleet.live() == initial }
        try fleet.startRenderers()
        let everyone = Self.canaries + Self.fleet
        try await eventually("every node to deliver the first commit") { fleet.files(everyone).allSatisfy { $0 == "port=80\n" } }
        try await eventually("every node to report it") { try await fleet.reports().count == everyone.count }

        // A good commit: canaries first; the fleet only after the canaries baked for 2 s.
        let good = try fleet.repository.commit("port 81", changes: [.text("apps/web/app.conf", "port=81\n")])
        try await eventually("the canaries to deliver the good commit") { fleet.files(Self.canaries).allSatisfy { $0 == "port=81\n" } }
        #expect(fleet.files(Self.fleet).allSatisfy { $0 == "port=80\n" }, "the fleet must not see a commit its canaries have not baked")
        #expect(try await fleet.live() == initial)
        try await eventually("the fleet to deliver the good commit after the bake", timeout: .seconds(60)) {
            fleet.files(Self.fleet).allSatisfy { $0 == "port=81\n" }
        }
        #expect(try await fleet.live() == good)
        try await eventually("the stage and canary values to be gone") {
            let canaryKeys = try await fleet.store.kv.keys(prefix: "config/apps/.git2kv/canary/", separator: nil, options: .default).value
            return try await fleet.stage() == nil && canaryKeys.isEmpty
        }

        // A commit whose check fails on the canaries: never on the fleet, prefix frozen with the reason.
        let bad = try fleet.repository.commit("bad config", changes: [.text("apps/web/app.conf", "port=bad\n")])
        try await eventually("the canary failure to freeze the prefix", timeout: .seconds(60)) { try await fleet.frozen()?.rolloutCommit == bad }
        let halt = try #require(try await fleet.frozen())
        #expect(halt.reason.contains("canary node canary-") && halt.reason.contains("check_failed"), "\(halt.reason)")
        #expect(try await fleet.stage()?.halted != nil)
        #expect(fleet.files(everyone).allSatisfy { $0 == "port=81\n" }, "a failing check keeps the old file; the fleet never saw the commit")
        #expect(try await fleet.live() == good)
        let status = try Git2KVBinary.run(["status", "--config", fleet.configFile, "--rollout", "config/apps", "--no-fetch"])
        #expect(status.status == 0, "\(status.errors)")
        for canary in Self.canaries {
            #expect(status.output.contains("failing: \(canary) (canary)"), "\(status.output)")
        }
        #expect(status.output.contains("check_failed") && status.output.contains("halted"), "\(status.output)")
        #expect(status.output.contains("7/7 node(s) current") == false)
        let bundleStatus = try Git2KVBinary.run(["status", "--config", fleet.configFile, "--rollout", "config/apps/web", "--json", "--no-fetch"])
        let decoded = try JSONDecoder().decode(RolloutStatus.self, from: Data(bundleStatus.output.utf8))
        #expect(decoded.bundles.map(\.name) == ["web"])
        #expect(decoded.bundles.first?.failing.count == 2)
        #expect(decoded.bundles.first?.current == 5, "the fleet is current on the live commit")
        #expect(decoded.liveCommit == good)
        // The daemon serves the same at /status?rollout=; a prefix no mapping writes is a 404.
        let port = try #require(daemon.announcedPort)
        let served = try Curl.run(["http://127.0.0.1:\(port)/status?rollout=config/apps/web"])
        #expect(served.status == 200, "\(served.body)")
        let fromDaemon = try JSONDecoder().decode(RolloutStatus.self, from: Data(served.body.utf8))
        #expect(fromDaemon.bundles.first?.failing.map(\.node).sorted() == Self.canaries)
        #expect(fromDaemon.stage?.halted != nil)
        #expect(try Curl.run(["http://127.0.0.1:\(port)/status?rollout=elsewhere"]).status == 404)

        // A fixed commit lifts the rollout's freeze and starts a new stage; the daemon killed
        // mid-stage leaves it in KV, and the next daemon finishes it.
        let fixed = try fleet.repository.commit("port 83", changes: [.text("apps/web/app.conf", "port=83\n")])
        try await eventually("the fixed commit to be staged", timeout: .seconds(60)) { try await fleet.stage()?.commit == fixed }
        #expect(try await fleet.frozen() == nil, "a new commit lifts the freeze a failed canary set")
        daemon.kill()
        #expect(fleet.files(Self.fleet).allSatisfy { $0 == "port=81\n" })
        try await eventually("the canaries to deliver the fixed commit") { fleet.files(Self.canaries).allSatisfy { $0 == "port=83\n" } }
        #expect(try await fleet.stage()?.commit == fixed, "the stage outlives the daemon")
        daemon = try fleet.serve()
        try await eventually("the restarted daemon to promote the stage it found", timeout: .seconds(60)) {
            fleet.files(Self.fleet).allSatisfy { $0 == "port=83\n" }
        }
        #expect(try await fleet.live() == fixed)
        try await eventually("every node to report the fixed commit delivered") {
            try await fleet.reports().values.allSatisfy { report in report.outputs.allSatisfy { $0.commit == fixed && $0.outcome == .delivered } }
        }
        let final = try Git2KVBinary.run(["status", "--config", fleet.configFile, "--rollout", "config/apps", "--no-fetch"])
        #expect(final.output.contains("7/7 node(s) current"), "\(final.output)")
    }

    @Test("HA: the leader stopped with SIGTERM mid-stage; the replica that takes over promotes the stage it finds")
    func followerResumesStage() async throws {
        var fleet = try await Fleet.start(.kvServer, rollout: "{ canary: { nodes: [canary-1], min_nodes: 1, bake: 3s } }", ha: "ha: { session_ttl: 120s }")
        defer { fleet.stop() }
        let first = try fleet.serve()
        defer { first.kill() }
        try await eventually("the first commit to go live") { try await fleet.live() == (try fleet.repository.head()) }
        let second = try fleet.serve()
        defer { second.kill() }
        try fleet.startRenderers(["canary-1", "web-1"])
        try await eventually("both nodes to deliver the first commit") { fleet.files(["canary-1", "web-1"]).allSatisfy { $0 == "port=80\n" } }
        let good = try fleet.repository.commit("port 81", changes: [.text("apps/web/app.conf", "port=81\n")])
        try await eventually("the commit to be staged") { try await fleet.stage()?.commit == good }
        first.kill(SIGTERM)
        #expect(fleet.file("web-1") == "port=80\n", "the bake (3 s) has not ended")
        try await eventually("the replica that took over to promote the stage", timeout: .seconds(60)) { fleet.file("web-1") == "port=81\n" }
        #expect(try await fleet.live() == good)
        #expect(try await fleet.stage() == nil)
    }
}
