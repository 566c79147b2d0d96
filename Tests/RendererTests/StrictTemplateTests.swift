import BundleFormat
import Foundation
import Renderer
import StoreFixtures
import Testing

/// Strict templates: a name the data lacks fails the output instead of rendering blank.
@Suite("render: strict templates, lazy data, values as written")
struct StrictTemplateTests {
    private func output(_ harness: RenderHarness, _ template: String, _ destination: String, extra: String = "") -> String {
        "{bundle: config/apps/api, template: \(harness.path(template)), destination: \(harness.path(destination))\(extra)}"
    }

    @Test("a renamed file fails the output with the template line and the name; the old file stays and no command runs")
    func renamedFile() async throws {
        let harness = try await RenderHarness.start()
        defer { Task { await harness.stop() } }
        try await harness.put("config/apps/api", ["application.properties": "url=jdbc:db\nuser=app\n"])
        try harness.write("api.conf", "url=old\n")
        try harness.write("api.mustache", "# api\nurl={{files.app_properties.data.url}}\nuser={{files.app_properties.data.user}}\n")
        let config = try harness.config([output(harness, "api.mustache", "api.conf", extra: ", command: \(harness.counting("ran"))")])
        let report = await harness.once(config)
        let error = try #require(report.failure(of: harness.path("api.conf")))
        #expect(error.kind == .template)
        #expect(error.message.contains("api.mustache:2:"), "\(error.message)")
        #expect(error.message.contains("files.app_properties.data.url"))
        #expect(error.message.contains("application_properties"), "the message lists the names the bundle has: \(error.message)")
        #expect(error.message.contains("and 1 more"))
        #expect(harness.read("api.conf") == "url=old\n")
        #expect(harness.count("ran") == 0)
        #expect(!report.succeeded)

        let lenient = try harness.config([output(harness, "api.mustache", "api.conf", extra: ", strict: false")])
        #expect(await harness.once(lenient).succeeded)
        #expect(harness.read("api.conf") == "# api\nurl=\nuser=\n")
    }

    @Test("optional values are written with sections; absent names in sections are fine")
    func sections() async throws {
        let harness = try await RenderHarness.start()
        defer { Task { await harness.stop() } }
        try await harness.put("config/apps/api", ["app.yaml": "port: 80\nfeatures: []\n"])
        try harness.write(
            "api.mustache",
            """
            port={{files.app_yaml.data.port}}
            {{#files.app_yaml.data.tls}}tls={{files.app_yaml.data.tls.cert}}{{/files.app_yaml.data.tls}}{{^files.app_yaml.data.tls}}tls=off{{/files.app_yaml.data.tls}}
            {{#files.extra_yaml}}extra={{text}}{{/files.extra_yaml}}{{#files.app_yaml.data.features}}f={{.}}{{/files.app_yaml.data.features}}
            {{#file_list}}{{path}} {{commit.short}}{{/file_list}}

            """)
        let report = await harness.once(try harness.config([output(harness, "api.mustache", "api.conf")]))
        #expect(report.succeeded, "\(report.failures)")
        #expect(harness.read("api.conf") == "port=80\ntls=off\n\napp.yaml c0ffee000000\n")
    }

    @Test("a missing name inside a list item or a partial is found; an unknown partial fails; partials render")
    func partialsAndLists() async throws {
        let harness = try await RenderHarness.start()
        defer { Task { await harness.stop() } }
        try await harness.put("config/apps/api", ["hosts.yaml": "hosts: [{name: a, ip: 1.1.1.1}, {name: b}]\n"])
        try harness.write("host.mustache", "{{name}} {{ip}}\n")
        try harness.write("list.mustache", "{{#files.hosts_yaml.data.hosts}}{{> host}}{{/files.hosts_yaml.data.hosts}}")
        try harness.write("unknown.mustache", "x\n{{> nowhere}}\n")
        try harness.write("good.mustache", "{{#files.hosts_yaml.data.hosts}}{{> named}}{{/files.hosts_yaml.data.hosts}}")
        try harness.write("named", "{{name}};")
        try harness.write("self.mustache", "{{> self.mustache}}")
        let config = try harness.config([
            output(harness, "list.mustache", "list.conf"), output(harness, "unknown.mustache", "unknown.conf"),
            output(harness, "good.mustache", "good.conf"), output(harness, "self.mustache", "self.conf", extra: ", strict: false"),
        ])
        let report = await harness.once(config)
        let inPartial = try #require(report.failure(of: harness.path("list.conf")))
        #expect(inPartial.message.contains("host.mustache:1:"), "\(inPartial.message)")
        #expect(inPartial.message.contains("{{ip}}"))
        let unknown = try #require(report.failure(of: harness.path("unknown.conf")))
        #expect(unknown.message.contains("unknown.mustache:2:"), "\(unknown.message)")
        #expect(unknown.message.contains("no partial nowhere"))
        #expect(harness.read("good.conf") == "a;b;")
        let runaway = try #require(report.failure(of: harness.path("self.conf")), "a partial including itself fails even when strict is off")
        #expect(runaway.message.contains("nest deeper"))
    }

    @Test("values render as written; objects and lists as JSON; .json gives the typed value")
    func valueForms() async throws {
        let harness = try await RenderHarness.start()
        defer { Task { await harness.stop() } }
        try await harness.put("config/apps/api", [
            "app.yaml": "version: 1.10\nmode: 0644\nenabled: yes\nday: 2024-01-02\ndb: {host: a, ports: [1, 2]}\n",
            "app.json": #"{"ratio": 1.0, "big": 12345678901234567890, "off": false}"#,
            "app.properties": "c.d=3\nc=4\n",
        ])
        try harness.write(
            "api.mustache",
            """
            {{files.app_yaml.data.version}} {{files.app_yaml.data.mode}} {{files.app_yaml.data.enabled}} {{files.app_yaml.data.day}}
            {{files.app_yaml.data.db}} {{files.app_yaml.data.db.ports}} {{files.app_yaml.data.enabled.json}} {{files.app_yaml.data.mode.json}}
            {{files.app_json.data.ratio}} {{files.app_json.data.big}} [{{#files.app_json.data.off}}on{{/files.app_json.data.off}}]
            {{files.app_properties.data.c}} {{files.app_properties.data.c.d}}

            """)
        let report = await harness.once(try harness.config([output(harness, "api.mustache", "api.conf")]))
        #expect(report.succeeded, "\(report.failures)")
        #expect(harness.read("api.conf") == """
            1.10 0644 yes 2024-01-02
            {"host":"a","ports":[1,2]} [1,2] true 420
            1.0 12345678901234567890 []
            4 3

            """)
    }

    @Test("two files with one variable name: naming it fails with both files")
    func collidingNames() async throws {
        let harness = try await RenderHarness.start()
        defer { Task { await harness.stop() } }
        try await harness.put("config/apps/api", ["a-b.yaml": "x: 1\n", "a_b.yaml": "x: 2\n"])
        try harness.write("api.mustache", "{{files.a_b_yaml.data.x}}\n")
        let report = await harness.once(try harness.config([output(harness, "api.mustache", "api.conf")]))
        let error = try #require(report.failure(of: harness.path("api.conf")))
        #expect(error.message.contains("a-b.yaml and a_b.yaml"), "\(error.message)")
    }

    @Test("only files a template names are parsed: an alias bomb named .YAML beside it is never read, and fails when named")
    func lazyBoundedParsing() async throws {
        let harness = try await RenderHarness.start()
        defer { Task { await harness.stop() } }
        var bomb = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
        for level in 1...9 {
            bomb += "a\(level): &a\(level) [\(Array(repeating: "*a\(level - 1)", count: 10).joined(separator: ", "))]\n"
        }
        try await harness.put("config/apps/api", ["bomb.YAML": bomb, "app.yaml": "port: 80\n"])
        try harness.write("safe.mustache", "{{files.app_yaml.data.port}}\n")
        try harness.write("named.mustache", "{{files.bomb_YAML.data.a9}}\n")
        try harness.write("listed.mustache", "{{#file_list}}{{path}} {{/file_list}}\n")
        let config = try harness.config([
            output(harness, "safe.mustache", "safe.conf"), output(harness, "named.mustache", "named.conf"),
            output(harness, "listed.mustache", "listed.conf"),
        ])
        let report = await harness.once(config)
        #expect(harness.read("safe.conf") == "80\n")
        #expect(harness.read("listed.conf") == "app.yaml bomb.YAML \n")
        let error = try #require(report.failure(of: harness.path("named.conf")))
        #expect(error.message.contains("alias bomb"), "\(error.message)")
    }

    @Test("files_digest covers only the files a template reads")
    func filesDigest() async throws {
        let harness = try await RenderHarness.start()
        defer { Task { await harness.stop() } }
        try harness.write("api.mustache", "# {{files_digest}}\nport={{files.app_json.data.port}}\n")
        let config = try harness.config([output(harness, "api.mustache", "api.conf")])
        try await harness.put("config/apps/api", ["app.json": #"{"port": 1}"#, "flags.yaml": "a: 1\n"], commit: String(repeating: "1", count: 40))
        #expect(await harness.once(config).succeeded)
        let first = try #require(harness.read("api.conf"))
        try await harness.put("config/apps/api", ["app.json": #"{"port": 1}"#, "flags.yaml": "a: 2\n"], commit: String(repeating: "2", count: 40))
        let unrelated = await harness.once(config)
        #expect(unrelated.status(of: harness.path("api.conf")) == .unchanged, "a change to a file the template does not read changes nothing")
        #expect(harness.read("api.conf") == first)
        try await harness.put("config/apps/api", ["app.json": #"{"port": 2}"#, "flags.yaml": "a: 2\n"], commit: String(repeating: "3", count: 40))
        #expect(await harness.once(config).succeeded)
        let second = try #require(harness.read("api.conf"))
        #expect(second != first)
        #expect(second.hasSuffix("port=2\n"))
        #expect(first.split(separator: "\n")[0] != second.split(separator: "\n")[0])
    }
}
