import Foundation
import KV
import StoreFixtures
import TestFixtures
import Testing

/// `git2kv render`, `publish` as operators run them: the binaries against the kv-server binary
/// (and a real etcd), with bundles written by `git2kv sync` from a git repository.
@Suite("git2kv render and publish (end to end)", .serialized)
struct RenderProcessTests {
    struct Setup {
        let directory: TemporaryDirectory
        let repository: FixtureRepository
        let store: E2EStore
        let daemonConfig: String
        let renderConfig: String

        var address: String { store.address }

        static func start(_ backend: StoreBackend = .kvServer) async throws -> Setup {
            let directory = try TemporaryDirectory(prefix: "git2kv-e2e-render")
            let repository = try FixtureRepository(at: directory.appending("origin.git"))
            try repository.commit("initial", changes: [.text("apps/web/app.conf", "port=80\n")])
            let store = try await E2EStore.start(backend)
            let daemonConfig = directory.appending("git2kv.yaml")
            try DaemonConfigText.yaml(
                kvAddress: store.address, kvSetting: store.kvSetting, stateDirectory: directory.appending("sync-state"), repoURL: repository.url,
                mappings: "[{source: apps, prefix: config/apps}]"
            ).write(toFile: daemonConfig, atomically: true, encoding: .utf8)
            let setup = Setup(
                directory: directory, repository: repository, store: store, daemonConfig: daemonConfig,
                renderConfig: directory.appending("render.yaml"))
            try setup.sync()
            return setup
        }

        func stop() {
            store.stop()
            directory.remove()
        }

        func sync() throws {
            let result = try Git2KVBinary.run(["sync", "--config", daemonConfig])
            #expect(result.status == 0, "\(result.errors)")
        }

        func writeRenderConfig(_ outputs: [String], extra: [String] = []) throws {
            let text = """
                kv: \(store.kvSetting)
                state_dir: \(directory.appending("render-state"))
                wait: { min: 100ms, max: 1s }
                \(extra.joined(separator: "\n"))
                outputs:
                \(outputs.map { "  - " + $0 }.joined(separator: "\n"))

                """
            try text.write(toFile: renderConfig, atomically: true, encoding: .utf8)
        }

        func read(_ name: String) -> String? {
            FileManager.default.contents(atPath: directory.appending(name)).map { String(decoding: $0, as: UTF8.self) }
        }

        func waitFor(_ what: String, timeout: Duration = .seconds(30), _ condition: () -> Bool) async throws {
            try await eventually(what, timeout: timeout) { condition() }
        }
    }

    @Test("render --once delivers what sync wrote, then reports unchanged; --dry-run prints a diff and writes nothing", arguments: StoreBackend.allCases)
    func onceAndDryRun(backend: StoreBackend) async throws {
        let setup = try await Setup.start(backend)
        defer { setup.stop() }
        try setup.writeRenderConfig(["{bundle: config/apps/web, file: app.conf, destination: \(setup.directory.appending("app.conf"))}"])
        let first = try Git2KVBinary.run(["render", "--config", setup.renderConfig, "--once"])
        #expect(first.status == 0, "\(first.errors)")
        #expect(first.output.contains("written \(setup.directory.appending("app.conf"))"))
        #expect(setup.read("app.conf") == "port=80\n")
        let second = try Git2KVBinary.run(["render", "--config", setup.renderConfig, "--once"])
        #expect(second.output.contains("unchanged"))
        let nothingToDo = try Git2KVBinary.run(["render", "--config", setup.renderConfig, "--dry-run"])
        #expect(nothingToDo.status == 0, "a dry run with nothing to change exits 0: \(nothingToDo.errors)")

        try setup.repository.commit("port 81", changes: [.text("apps/web/app.conf", "port=81\n")])
        try setup.sync()
        let dry = try Git2KVBinary.run(["render", "--config", setup.renderConfig, "--dry-run"])
        #expect(dry.status == 2, "a dry run that would change a file exits 2: \(dry.errors)")
        #expect(dry.output.contains("-port=80\n+port=81"))
        #expect(setup.read("app.conf") == "port=80\n")

        try setup.writeRenderConfig([
            "{bundle: config/apps/web, file: app.conf, destination: \(setup.directory.appending("app.conf"))}",
            "{bundle: config/apps/missing, file: app.conf, destination: \(setup.directory.appending("other.conf"))}",
        ])
        let partial = try Git2KVBinary.run(["render", "--config", setup.renderConfig, "--once"])
        #expect(partial.status == 1)
        #expect(partial.errors.contains("config/apps/missing does not exist"))
        #expect(setup.read("app.conf") == "port=81\n")

        try "outputs:\n  - {bundle: a, file: f, destination: relative}\n".write(toFile: setup.renderConfig, atomically: true, encoding: .utf8)
        let refused = try Git2KVBinary.run(["render", "--config", setup.renderConfig, "--once"])
        #expect(refused.status == 1)
        #expect(refused.errors.contains("render.yaml:2:"))
    }

    @Test("a renderer killed between staging and rename leaves the whole old file; the next run delivers the whole new one")
    func killedMidDelivery() async throws {
        let setup = try await Setup.start()
        defer { setup.stop() }
        let destination = setup.directory.appending("app.conf")
        try "old and whole\n".write(toFile: destination, atomically: true, encoding: .utf8)
        let marker = setup.directory.appending("checking")
        let slowCheck = #"["/bin/sh", "-c", "touch \#(marker); sleep 5", "check", "{{staged}}"]"#
        try setup.writeRenderConfig(["{bundle: config/apps/web, file: app.conf, destination: \(destination), check: \(slowCheck)}"])
        let renderer = try BackgroundProcess(Git2KVBinary.path, ["render", "--config", setup.renderConfig, "--listen", "127.0.0.1:0"])
        try await setup.waitFor("the check to start") { FileManager.default.fileExists(atPath: marker) }
        renderer.kill()
        #expect(setup.read("app.conf") == "old and whole\n")
        let staged = try FileManager.default.contentsOfDirectory(atPath: setup.directory.path).filter { $0.contains(".git2kv-staged-") }
        #expect(staged.count == 1, "the staged file is what was left behind")

        try setup.writeRenderConfig(["{bundle: config/apps/web, file: app.conf, destination: \(destination)}"])
        let next = try Git2KVBinary.run(["render", "--config", setup.renderConfig, "--once"])
        #expect(next.status == 0, "\(next.errors)")
        #expect(setup.read("app.conf") == "port=80\n")
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: setup.directory.path).filter { $0.contains(".git2kv-staged-") }
        #expect(leftovers.isEmpty)
    }

    @Test("SIGHUP with a broken file keeps rendering with the old configuration; a good file takes effect", arguments: StoreBackend.allCases)
    func reload(backend: StoreBackend) async throws {
        let setup = try await Setup.start(backend)
        defer { setup.stop() }
        let first = setup.directory.appending("app.conf")
        try setup.writeRenderConfig(["{bundle: config/apps/web, file: app.conf, destination: \(first)}"])
        let renderer = try BackgroundProcess(Git2KVBinary.path, ["render", "--config", setup.renderConfig, "--listen", "127.0.0.1:0"])
        defer { renderer.kill() }
        try await setup.waitFor("the first delivery") { setup.read("app.conf") == "port=80\n" }

        try "outputs: [ {bundle: \n".write(toFile: setup.renderConfig, atomically: true, encoding: .utf8)
        kill(renderer.processIdentifier, SIGHUP)
        try await Task.sleep(for: .milliseconds(300))
        try setup.repository.commit("port 82", changes: [.text("apps/web/app.conf", "port=82\n")])
        try setup.sync()
        try await setup.waitFor("the change under the old configuration") { setup.read("app.conf") == "port=82\n" }
        #expect(renderer.isRunning)

        let second = setup.directory.appending("copy.conf")
        try setup.writeRenderConfig([
            "{bundle: config/apps/web, file: app.conf, destination: \(first)}",
            "{bundle: config/apps/web, file: app.conf, destination: \(second)}",
        ])
        kill(renderer.processIdentifier, SIGHUP)
        try await setup.waitFor("the added output") { setup.read("copy.conf") == "port=82\n" }
        renderer.kill(SIGTERM)
        #expect(!renderer.isRunning)
    }

    @Test("git2kv-node render sends DogStatsD metrics and an event per delivery, failed ones too")
    func dogStatsD() async throws {
        let setup = try await Setup.start()
        defer { setup.stop() }
        let agent = try UDPReceiver()
        defer { agent.stop() }
        let destination = setup.directory.appending("app.conf")
        try setup.writeRenderConfig(
            [#"{bundle: config/apps/web, file: app.conf, destination: \#(destination), check: ["/bin/sh", "-c", "! grep -q broken $0", "{{staged}}"]}"#],
            extra: [#"metrics: { dogstatsd: "127.0.0.1:\#(agent.port)", tags: ["env:test"], events: true }"#])
        let renderer = try BackgroundProcess(Git2KVBinary.nodePath, ["render", "--config", setup.renderConfig])
        defer { renderer.kill() }
        try await setup.waitFor("the first delivery") { setup.read("app.conf") == "port=80\n" }
        func events(_ alert: String) -> [String] { agent.lines.filter { $0.hasPrefix("_e{") && $0.contains("|t:\(alert)|") } }
        try await eventually("the delivery's metric and event") {
            agent.lines.contains("git2kv.render.outputs:1|c|#env:test,destination:\(destination),outcome:written") && events("success").count == 1
        }
        let delivered = try #require(events("success").first)
        let commit = try setup.repository.head()
        #expect(delivered.contains("git2kv delivered \(destination)|bundle: config/apps/web\\ncommit: \(commit)\\ndestination: \(destination)\\noutcome: delivered"))
        #expect(delivered.hasSuffix("|#env:test,bundle:config/apps/web,destination:\(destination),outcome:delivered"))

        try setup.repository.commit("broken", changes: [.text("apps/web/app.conf", "broken\n")])
        try setup.sync()
        try await eventually("the failed check's event") { events("error").count == 1 }
        #expect(events("error")[0].contains("outcome: failed_check"))
        try setup.repository.commit("broken again", changes: [.text("apps/web/app.conf", "broken\nstill\n")])
        try setup.sync()
        try await eventually("the second commit's failure") { events("error").count == 2 }
        #expect(agent.lines.filter { $0.hasPrefix("git2kv.render.outputs:1|c|") && $0.hasSuffix("outcome:failed_check") }.count == 2)
        #expect(setup.read("app.conf") == "port=80\n", "the last good file stays")
        #expect(events("success").count == 1)
        renderer.kill(SIGTERM)
    }

    @Test("publish writes a generated file once and skips it while unchanged")
    func publishSkipsUnchanged() async throws {
        let setup = try await Setup.start()
        defer { setup.stop() }
        let config = setup.directory.appending("publish.yaml")
        try "kv: \(setup.store.kvSetting)\nmin_lines: 2\n".write(toFile: config, atomically: true, encoding: .utf8)
        let file = setup.directory.appending("inventory.txt")
        try "a\nb\n".write(toFile: file, atomically: true, encoding: .utf8)
        let first = try Git2KVBinary.run(["publish", "--config", config, "--key", "gen/inventory", file])
        #expect(first.status == 0, "\(first.errors)")
        #expect(first.output.hasPrefix("published gen/inventory"))
        let second = try Git2KVBinary.run(["publish", "--config", config, "--key", "gen/inventory", file])
        #expect(second.output.hasPrefix("unchanged gen/inventory"))
        try setup.writeRenderConfig(["{bundle: gen/inventory, file: inventory.txt, destination: \(setup.directory.appending("inventory"))}"])
        let rendered = try Git2KVBinary.run(["render", "--config", setup.renderConfig, "--once"])
        #expect(rendered.output.contains("written \(setup.directory.appending("inventory")) (gen/inventory)\n"), "a published bundle has no commit to name: \(rendered.output)")
        try "a\n".write(toFile: file, atomically: true, encoding: .utf8)
        let short = try Git2KVBinary.run(["publish", "--config", config, "--key", "gen/inventory", file])
        #expect(short.status == 1)
        #expect(short.errors.contains("fewer than min_lines 2"))
    }
}
