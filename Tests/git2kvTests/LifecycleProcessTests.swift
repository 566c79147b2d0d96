import Foundation
import KV
import TestFixtures
import Testing

/// How the binaries start and stop: a token HA cannot use is a start-up error, and SIGTERM is a
/// graceful stop (kv-server ends its long polls, the renderer exits cleanly).
@Suite("lifecycle (end to end)", .serialized)
struct LifecycleProcessTests {
    @Test("serve with HA and a token that may not create sessions exits at once, saying what is missing, never the token")
    func haTokenWithoutSessionRights() async throws {
        let bootstrap = "lifecycle-bootstrap-token"
        let (server, port) = try Git2KVBinary.startKVServer(extraArguments: ["--acl-bootstrap-token", bootstrap])
        defer { server.kill() }
        let address = "http://127.0.0.1:\(port)"
        let token = try await ACLTokens.create(address: address, bootstrap: bootstrap, rules: #"key_prefix "config/apps/" { policy = "write" }"#)
        let directory = try TemporaryDirectory(prefix: "git2kv-ha-token")
        defer { directory.remove() }
        let repository = try FixtureRepository(at: directory.appending("origin.git"))
        try repository.commit("initial", changes: [.text("apps/web/port", "80")])
        let tokenFile = directory.appending("apps.token")
        try token.write(toFile: tokenFile, atomically: true, encoding: .utf8)
        let config = directory.appending("git2kv.yaml")
        try DaemonConfigText.yaml(
            kvAddress: address, stateDirectory: directory.appending("state"), repoURL: repository.url,
            mappings: "[{source: apps, prefix: config/apps, token_file: \(tokenFile)}]", topLevel: ["http: { listen: \"127.0.0.1:0\" }"]
        ).write(toFile: config, atomically: true, encoding: .utf8)

        let result = try Git2KVBinary.run(["serve", "--config", config])
        #expect(result.status != 0)
        let text = result.output + result.errors
        #expect(text.contains("ha needs session write"), "\(text)")
        #expect(text.contains(tokenFile), "the message names where the token came from: \(text)")
        #expect(!text.contains(token), "the token itself was printed")
    }

    @Test("kv-server answers every blocking query at once on SIGTERM, with the current index, and exits")
    func kvServerEndsLongPolls() async throws {
        let (server, port) = try Git2KVBinary.startKVServer()
        defer { server.kill() }
        let kv = ConsulClient(.init(address: "http://127.0.0.1:\(port)"))
        try await kv.put("watched", value: [1])
        let first = try await kv.get("watched")
        let polls = (0..<5).map { _ in
            Task { try await kv.get("watched", options: KVReadOptions(waitIndex: first.index, waitTime: .seconds(300))) }
        }
        try await eventually("the blocking queries to reach the server") {
            let metrics = try ProcessRunner.run("/usr/bin/curl", ["-s", "http://127.0.0.1:\(port)/v1/agent/metrics"]).output
            return metrics.contains(#"{"Name":"git2kv.kv_server.blocking_queries","Value":5"#)
        }
        let started = ContinuousClock.now
        let status = server.stop(SIGTERM)
        let stopped = started.duration(to: .now)
        #expect(status == 0, "kv-server did not exit by itself on SIGTERM")
        #expect(stopped < .seconds(60), "kv-server took \(stopped) to stop: it waited for its long polls")
        for poll in polls {
            let answer = try await poll.value
            #expect(answer.index == first.index, "a long poll ended on leave answers with the current index")
            #expect(answer.value?.value == [1])
        }
        print("kv-server stopped \(stopped) after SIGTERM with 5 open blocking queries")
    }

    @Test("render with a metrics listener exits 0 on SIGTERM and logs no error")
    func rendererStopsCleanly() async throws {
        let (server, port) = try Git2KVBinary.startKVServer()
        defer { server.kill() }
        let directory = try TemporaryDirectory(prefix: "git2kv-render-stop")
        defer { directory.remove() }
        let config = directory.appending("render.yaml")
        try """
            kv: { address: "http://127.0.0.1:\(port)" }
            state_dir: \(directory.appending("state"))
            listen: "127.0.0.1:0"
            outputs:
              - { bundle: config/apps/web, file: app.conf, destination: \(directory.appending("app.conf")) }

            """.write(toFile: config, atomically: true, encoding: .utf8)
        let log = directory.appending("render.log")
        let renderer = try BackgroundProcess(Git2KVBinary.path, ["render", "--config", config, "--log-level", "info"], standardErrorFile: log)
        defer { renderer.kill() }
        let metricsPort = try #require(Self.port(in: renderer, after: "port "))
        try await eventually("the first pass (the bundle is missing, so its output fails)") {
            let metrics = try ProcessRunner.run("/usr/bin/curl", ["-s", "http://127.0.0.1:\(metricsPort)/metrics"]).output
            return metrics.contains("git2kv_render_last_pass")
        }
        #expect(renderer.stop(SIGTERM) == 0)
        let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        let afterStop = text.components(separatedBy: "\n").filter { $0.contains("CancellationError") || $0.contains("listener stopped") }
        #expect(afterStop.isEmpty, "a clean stop logged: \(afterStop)")
    }

    /// The port printed on the second line of a process's output (`… on port N`).
    static func port(in process: BackgroundProcess, after marker: String) -> Int? {
        guard let line = process.nextLine(), let range = line.range(of: marker) else { return nil }
        return Int(line[range.upperBound...].prefix { $0.isNumber })
    }
}
