import BundleFormat
import Foundation
import KV
import Renderer
import StoreFixtures
import Testing

/// One pass over every output: verification, templates, guards, checks, dry runs.
@Suite("render: verify, template, deliver")
struct RenderOnceTests {
    @Test("a template sees the bundle's files as text and data, the commit and allowed node facts")
    func templateData() async throws {
        let harness = try await RenderHarness.start()
        defer { Task { await harness.stop() } }
        try await harness.put("config/apps/web", [
            "app.json": #"{"port": 8080, "tls": true, "hosts": ["a", "b"]}"#,
            "db.yaml": "primary:\n  host: db1\n",
            "cache.properties": "cache.size=64\n# comment\n",
            "motd.txt": "hello <world> & co\n",
        ])
        try harness.write(
            "web.mustache",
            """
            listen {{files.app_json.data.port}}{{#files.app_json.data.tls}} ssl{{/files.app_json.data.tls}};
            {{#files.app_json.data.hosts}}server {{.}};
            {{/files.app_json.data.hosts}}db {{files.db_yaml.data.primary.host}} cache {{files.cache_properties.data.cache.size}}
            {{files.motd_txt.text}}commit {{commit.short}} by {{commit.author}} from {{source.repo}}/{{source.branch}}
            region {{node.env.G2KV_TEST_REGION}} secret [{{#node.env.G2KV_TEST_SECRET}}{{.}}{{/node.env.G2KV_TEST_SECRET}}]
            {{#file_list}}{{path}} {{/file_list}}

            """)
        setenv("G2KV_TEST_REGION", "eu-west", 1)
        setenv("G2KV_TEST_SECRET", "hunter2", 1)
        let config = try harness.config(
            ["{bundle: config/apps/web, template: \(harness.path("web.mustache")), destination: \(harness.path("web.conf"))}"],
            extra: ["environment: [G2KV_TEST_REGION]"])
        let report = await harness.once(config)
        #expect(report.succeeded, "\(report.failures)")
        #expect(harness.read("web.conf") == """
            listen 8080 ssl;
            server a;
            server b;
            db db1 cache 64
            hello <world> & co
            commit c0ffee000000 by Ada from config/main
            region eu-west secret []
            app.json cache.properties db.yaml motd.txt 

            """)
    }

    @Test("a template error names the template file, line and cause; the old file stays")
    func templateErrorHasLine() async throws {
        let harness = try await RenderHarness.start()
        defer { Task { await harness.stop() } }
        try await harness.put("config/apps/web", ["app.json": "{}"])
        try harness.write("web.conf", "old\n")
        try harness.write("bad.mustache", "line one\nline two\n{{#files}}never closed\nline four\n")
        try harness.write("bad2.mustache", "a\nb {{name\n")
        let config = try harness.config([
            "{bundle: config/apps/web, template: \(harness.path("bad.mustache")), destination: \(harness.path("web.conf"))}",
            "{bundle: config/apps/web, template: \(harness.path("bad2.mustache")), destination: \(harness.path("web2.conf"))}",
        ])
        let report = await harness.once(config)
        let error = try #require(report.failure(of: harness.path("web.conf")))
        #expect(error.kind == .template)
        #expect(error.message.contains("bad.mustache:"))
        #expect(error.message.contains("never closed"))
        let second = try #require(report.failure(of: harness.path("web2.conf")))
        #expect(second.message.contains("bad2.mustache:2:"), "\(second.message)")
        #expect(second.message.contains("not closed with }}"))
        #expect(harness.read("web.conf") == "old\n")
        #expect(harness.read("web2.conf") == nil)
    }

    @Test("corrupt, truncated, unknown-version and missing bundles are rejected and the old file stays", arguments: StoreBackend.allCases)
    func corruptBundleRejected(backend: StoreBackend) async throws {
        let harness = try await RenderHarness.start(backend)
        defer { Task { await harness.stop() } }
        let good = try BundleEncoder.encode(RenderHarness.bundle(["app.conf": "new\n"]))
        var flipped = good
        flipped[flipped.count / 2] ^= 0xFF
        var future = good
        future[4] = 99
        let cases: [(String, [UInt8])] = [
            ("flipped", flipped), ("truncated", Array(good.prefix(good.count - 7))), ("future", future), ("text", Array("port=80".utf8)),
        ]
        for (name, value) in cases {
            try await harness.putRaw("config/\(name)", value)
            try harness.write("\(name).conf", "old\n")
        }
        let config = try harness.config(
            cases.map { "{bundle: config/\($0.0), file: app.conf, destination: \(harness.path("\($0.0).conf"))}" }
                + ["{bundle: config/absent, file: app.conf, destination: \(harness.path("absent.conf"))}"])
        let report = await harness.once(config)
        #expect(!report.succeeded)
        for (name, _) in cases {
            let error = try #require(report.failure(of: harness.path("\(name).conf")), "\(name)")
            #expect(error.kind == .bundle, "\(name): \(error)")
            #expect(error.message.contains("config/\(name)"))
            #expect(harness.read("\(name).conf") == "old\n")
        }
        #expect(report.failure(of: harness.path("future.conf"))?.message.contains("version 99") == true)
        #expect(report.failure(of: harness.path("absent.conf"))?.message.contains("does not exist") == true)
        #expect(harness.read("absent.conf") == nil)
    }

    @Test("a chunked bundle is reassembled from its chunks and verified", arguments: StoreBackend.allCases)
    func chunkedBundle(backend: StoreBackend) async throws {
        let harness = try await RenderHarness.start(backend)
        defer { Task { await harness.stop() } }
        var text = ""
        for line in 0..<20_000 { text += "line \(line) \(line * 7919 % 1000)\n" }
        let bundle = RenderHarness.bundle(["big.txt": text])
        guard case .chunked(let manifest, let chunks) = try BundleChunker.store(bundle, valueLimit: 8 * 1024, chunkSize: 8 * 1024) else {
            Issue.record("expected a chunked bundle")
            return
        }
        for chunk in chunks { try await harness.putRaw("config/apps/" + chunk.key, chunk.bytes) }
        try await harness.putRaw("config/apps/big", manifest.encode())
        let config = try harness.config(["{bundle: config/apps/big, file: big.txt, destination: \(harness.path("big.txt"))}"])
        let report = await harness.once(config)
        #expect(report.succeeded, "\(report.failures)")
        #expect(harness.read("big.txt") == text)

        // A chunk that does not match its checksum fails the bundle, not the file.
        try await harness.putRaw("config/apps/" + chunks[0].key, Array("tampered".utf8))
        try await harness.putRaw("config/apps/big", manifest.encode())
        let tampered = await harness.once(config)
        #expect(tampered.failure(of: harness.path("big.txt"))?.kind == .bundle)
        #expect(harness.read("big.txt") == text)
    }

    @Test("a check that rejects the staged file keeps the old file")
    func failingCheckKeepsOldFile() async throws {
        let harness = try await RenderHarness.start()
        defer { Task { await harness.stop() } }
        try await harness.put("config/apps/web", ["app.conf": "broken\n"])
        try harness.write("app.conf", "good\n")
        let check = #"["/bin/sh", "-c", "grep -q good \"$1\" || { echo 'syntax error on line 1' >&2; exit 3; }", "check", "{{staged}}"]"#
        let config = try harness.config([
            "{bundle: config/apps/web, file: app.conf, destination: \(harness.path("app.conf")), check: \(check), command: \(harness.counting("ran"))}"
        ])
        let report = await harness.once(config)
        let error = try #require(report.failure(of: harness.path("app.conf")))
        #expect(error.kind == .check)
        #expect(error.message.contains("exited with status 3"))
        #expect(error.message.contains("syntax error on line 1"))
        #expect(harness.read("app.conf") == "good\n")
        #expect(harness.count("ran") == 0)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: harness.directory.path).filter { $0.contains("git2kv-staged") }
        #expect(leftovers.isEmpty)

        try await harness.put("config/apps/web", ["app.conf": "good and new\n"])
        let fixed = await harness.once(config)
        #expect(fixed.succeeded, "\(fixed.failures)")
        #expect(harness.read("app.conf") == "good and new\n")
        #expect(harness.count("ran") == 1)
    }

    @Test("min_lines refuses short content; mode and backup are applied")
    func guardsModeAndBackup() async throws {
        let harness = try await RenderHarness.start()
        defer { Task { await harness.stop() } }
        try await harness.put("dns/hosts", ["hosts": "10.0.0.1 a\n"])
        try harness.write("hosts", "10.0.0.1 a\n10.0.0.2 b\n10.0.0.3 c\n")
        let config = try harness.config([
            "{bundle: dns/hosts, file: hosts, destination: \(harness.path("hosts")), min_lines: 3, mode: \"0640\", backup: true}"
        ])
        let short = await harness.once(config)
        #expect(short.failure(of: harness.path("hosts"))?.kind == .guardFailed)
        #expect(short.failure(of: harness.path("hosts"))?.message.contains("min_lines 3") == true)
        #expect(harness.read("hosts") == "10.0.0.1 a\n10.0.0.2 b\n10.0.0.3 c\n")

        try await harness.put("dns/hosts", ["hosts": "10.0.0.1 a\n10.0.0.2 b\n10.0.0.4 d\n"])
        let report = await harness.once(config)
        #expect(report.succeeded, "\(report.failures)")
        #expect(harness.read("hosts") == "10.0.0.1 a\n10.0.0.2 b\n10.0.0.4 d\n")
        #expect(harness.read("hosts.bak") == "10.0.0.1 a\n10.0.0.2 b\n10.0.0.3 c\n")
        let mode = try FileManager.default.attributesOfItem(atPath: harness.path("hosts"))[.posixPermissions] as? Int
        #expect(mode == 0o640)
    }

    @Test("a dry run prints a diff and writes and runs nothing")
    func dryRun() async throws {
        let harness = try await RenderHarness.start()
        defer { Task { await harness.stop() } }
        try await harness.put("config/apps/web", ["app.conf": "a\nb\nc\n"])
        try harness.write("app.conf", "a\nB\nc\n")
        let config = try harness.config([
            "{bundle: config/apps/web, file: app.conf, destination: \(harness.path("app.conf")), command: \(harness.counting("ran"))}"
        ])
        let report = await harness.once(config, dryRun: true)
        guard case .wouldChange(let diff) = report.status(of: harness.path("app.conf")) else {
            Issue.record("expected a diff, got \(String(describing: report.status(of: harness.path("app.conf"))))")
            return
        }
        #expect(diff.contains("-B\n+b\n"))
        #expect(report.commands.map(\.argv.first) == ["/bin/sh"])
        #expect(harness.read("app.conf") == "a\nB\nc\n")
        #expect(harness.count("ran") == 0)
        #expect(!FileManager.default.fileExists(atPath: RenderState.file(in: harness.path("state"))))
    }

    @Test("a command that fails or times out is reported and runs again on the next change")
    func failingCommand() async throws {
        let harness = try await RenderHarness.start()
        defer { Task { await harness.stop() } }
        try await harness.put("config/apps/web", ["app.conf": "v1\n"])
        let config = try harness.config([
            "{bundle: config/apps/web, file: app.conf, destination: \(harness.path("app.conf")), command: [\"/bin/sleep\", \"600\"], command_timeout: 300ms}"
        ])
        let started = ContinuousClock.now
        let report = await harness.once(config)
        #expect(ContinuousClock.now - started < .seconds(300), "the command ran to its end instead of being stopped at its timeout")
        #expect(harness.read("app.conf") == "v1\n")
        let error = try #require(report.commands.first?.error)
        #expect(error.message.contains("did not finish within"))
        let state = try RenderState.load(from: harness.path("state"))
        #expect(state.outputs[harness.path("app.conf")]?.commandError?.contains("did not finish") == true)
        #expect(state.outputs[harness.path("app.conf")]?.commandPending == true, "a failed command stays owed")
        #expect(state.outputs[harness.path("app.conf")]?.commandFailures == 1)
    }

    @Test("a command that fails stays owed across a restart and runs until it succeeds, once")
    func owedCommandAcrossRestart() async throws {
        let harness = try await RenderHarness.start()
        defer { Task { await harness.stop() } }
        try await harness.put("config/apps/web", ["app.conf": "v1\n"])
        // Fails the first time (the service is down), succeeds after that.
        let flag = harness.path("failed-once")
        let command = #"["/bin/sh", "-c", "test -f \#(flag) || { touch \#(flag); exit 3; }; echo ran >> \#(harness.path("ran"))"]"#
        let config = try harness.config(["{bundle: config/apps/web, file: app.conf, destination: \(harness.path("app.conf")), command: \(command)}"])
        let first = await harness.once(config)
        #expect(first.commands.first?.error != nil)
        #expect(first.exitStatus(dryRun: false) == 1)
        #expect(harness.read("app.conf") == "v1\n")
        #expect(try RenderState.load(from: harness.path("state")).failedCommands == [harness.path("app.conf"): 1])

        // A new process with nothing new in KV: the owed command runs, and succeeds.
        let second = await harness.once(config)
        #expect(second.succeeded, "\(second.failures)")
        #expect(second.status(of: harness.path("app.conf")) == .unchanged)
        #expect(harness.count("ran") == 1)
        let state = try RenderState.load(from: harness.path("state"))
        #expect(state.outputs[harness.path("app.conf")]?.commandPending == false)
        #expect(state.outputs[harness.path("app.conf")]?.commandError == nil)

        // Paid off: a third run owes nothing and runs nothing.
        #expect(await harness.once(config).commands.isEmpty)
        #expect(harness.count("ran") == 1)
    }
}
