import BundleFormat
import Foundation
import KV
import TestFixtures
import Testing

/// `git2kv render` while its kv-server is replaced by an empty one on the same address (a
/// Consul cluster restored from nothing, an index reset): the new content must arrive at once,
/// not after a whole blocking wait, even though the new store's indexes start over.
@Suite("git2kv render across a store reset (end to end)", .serialized)
struct RenderStoreResetTests {
    static func bundle(_ content: String, commit: Character) throws -> [UInt8] {
        try BundleEncoder.encode(
            ConfigBundle(
                source: BundleSource(repo: "config", branch: "main", path: "apps/web"),
                commit: BundleCommit(id: String(repeating: commit, count: 40), author: "a", email: "a@b", time: 1, summary: "s"),
                files: [BundleFile(path: "app.conf", content: Array(content.utf8))]))
    }

    static func startServer(port: Int) async throws -> BackgroundProcess {
        // The old server's port may take a moment to be free again.
        for _ in 0..<50 {
            let process = try BackgroundProcess(Git2KVBinary.path, ["kv-server", "--listen", "127.0.0.1:\(port)"])
            if process.announcedPort == port { return process }
            process.kill()
            try await Task.sleep(for: .milliseconds(100))
        }
        throw ServerDidNotStart(port: port)
    }

    struct ServerDidNotStart: Error, CustomStringConvertible {
        let port: Int
        var description: String { "kv-server cannot listen on 127.0.0.1:\(port) again" }
    }

    @Test("a kv-server replaced by an empty one: new content reaches the file within 2 s")
    func emptyStoreReplacesTheOld() async throws {
        let directory = try TemporaryDirectory(prefix: "git2kv-e2e-reset")
        defer { directory.remove() }
        let port = ClosedPort.find()
        var server = try await Self.startServer(port: port)
        defer { server.kill() }
        let kv = ConsulClient(.init(address: "http://127.0.0.1:\(port)"))
        try await kv.put("config/apps/web", value: try Self.bundle("v1\n", commit: "1"))
        // Writes elsewhere, so the old store's index is far above anything the new one reaches soon.
        for index in 0..<30 { try await kv.put("other/\(index)", value: Array("x".utf8)) }

        let config = directory.appending("render.yaml")
        try """
            kv: { address: "http://127.0.0.1:\(port)" }
            state_dir: \(directory.appending("state"))
            wait: { min: 50ms, max: 500ms }
            watch: { wait: 5m }
            outputs:
              - { bundle: config/apps/web, file: app.conf, destination: \(directory.appending("app.conf")) }

            """.write(toFile: config, atomically: true, encoding: .utf8)
        let renderLog = directory.appending("render.log")
        let render = try BackgroundProcess(Git2KVBinary.path, ["render", "--config", config, "--log-level", "debug"], standardErrorFile: renderLog)
        defer { render.kill() }
        let file = directory.appending("app.conf")
        let read = { FileManager.default.contents(atPath: file).map { String(decoding: $0, as: UTF8.self) } }
        try await eventually("the first delivery") { read() == "v1\n" }

        // At once: the renderer's next query may not have left yet, and then it reaches the new
        // store with the old store's index.
        server.kill()
        server = try await Self.startServer(port: port)
        try await kv.put("config/apps/web", value: try Self.bundle("v2\n", commit: "2"))
        let written = ContinuousClock.now
        do {
            try await eventually("the new store's content", timeout: .seconds(10)) { read() == "v2\n" }
        } catch {
            let sockets = (try? ProcessRunner.run("/bin/sh", ["-c", "ss -tanp | grep -v TIME-WAIT | grep \(port)"]).output) ?? ""
            Issue.record("\(error); sockets: \(sockets); render pid \(render.processIdentifier); the renderer logged:\n\((try? String(contentsOfFile: renderLog, encoding: .utf8))?.suffix(3_000) ?? "")")
            return
        }
        let took = ContinuousClock.now - written
        #expect(took < .seconds(2), "the renderer took \(took) to see the new store's content")
    }
}

/// `git2kv render` handed an alias bomb by KV (a forged or hand-written bundle, not one sync
/// would write): it fails that output and stays small.
@Suite("git2kv render and a YAML alias bomb (end to end)", .serialized)
struct RenderAliasBombTests {
    @Test("a template naming a 600-byte alias bomb called .YAML fails its output; the renderer stays under 100 MiB")
    func aliasBomb() async throws {
        let directory = try TemporaryDirectory(prefix: "git2kv-e2e-bomb")
        defer { directory.remove() }
        let (server, port) = try Git2KVBinary.startKVServer()
        defer { server.kill() }
        var bomb = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
        for level in 1...9 {
            bomb += "a\(level): &a\(level) [\(Array(repeating: "*a\(level - 1)", count: 10).joined(separator: ", "))]\n"
        }
        let bundle = ConfigBundle(
            source: BundleSource(repo: "config", branch: "main", path: "apps/web"),
            commit: BundleCommit(id: String(repeating: "b", count: 40), author: "a", email: "a@b", time: 1, summary: "s"),
            files: [BundleFile(path: "bomb.YAML", content: Array(bomb.utf8)), BundleFile(path: "app.yaml", content: Array("port: 80\n".utf8))])
        try await ConsulClient(.init(address: "http://127.0.0.1:\(port)")).put("config/apps/web", value: try BundleEncoder.encode(bundle))
        try "{{files.bomb_YAML.data.a9}}\n".write(toFile: directory.appending("bomb.mustache"), atomically: true, encoding: .utf8)
        try "port={{files.app_yaml.data.port}}\n".write(toFile: directory.appending("app.mustache"), atomically: true, encoding: .utf8)
        let config = directory.appending("render.yaml")
        try """
            kv: { address: "http://127.0.0.1:\(port)" }
            state_dir: \(directory.appending("state"))
            wait: { min: 50ms, max: 500ms }
            outputs:
              - { bundle: config/apps/web, template: \(directory.appending("bomb.mustache")), destination: \(directory.appending("bomb.conf")) }
              - { bundle: config/apps/web, template: \(directory.appending("app.mustache")), destination: \(directory.appending("app.conf")) }

            """.write(toFile: config, atomically: true, encoding: .utf8)
        let render = try BackgroundProcess(Git2KVBinary.path, ["render", "--config", config, "--log-level", "error"])
        defer { render.kill() }
        let stateFile = directory.appending("state/render-state.json")
        try await eventually("the bomb's output to fail and the other to be delivered") {
            let state = FileManager.default.contents(atPath: stateFile).map { String(decoding: $0, as: UTF8.self) } ?? ""
            return state.contains("alias bomb") && FileManager.default.fileExists(atPath: directory.appending("app.conf"))
        }
        #expect(!FileManager.default.fileExists(atPath: directory.appending("bomb.conf")))
        let status = try String(contentsOfFile: "/proc/\(render.processIdentifier)/status", encoding: .utf8)
        let peakKiB = status.split(separator: "\n").first { $0.hasPrefix("VmHWM:") }
            .flatMap { Int($0.split(whereSeparator: { $0 == " " || $0 == "\t" })[1]) }
        let peak = try #require(peakKiB)
        #expect(peak < 100 * 1024, "the renderer's peak RSS was \(peak / 1024) MiB")
    }
}
