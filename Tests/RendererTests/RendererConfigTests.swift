import Pipeline
import Renderer
import Testing

@Suite("render: configuration")
struct RendererConfigTests {
    @Test("the design's example parses")
    func designExample() throws {
        let config = try RendererConfig.parse(
            """
            kv: { backend: consul, address: "http://127.0.0.1:8500" }
            state_dir: /var/lib/git2kv
            wait: { min: 2s, max: 10s }
            outputs:
              - bundle: config/apps/web
                template: /etc/git2kv/templates/web.conf.mustache
                destination: /etc/web/web.conf
                mode: "0644"
                check: ["/usr/sbin/nginx", "-t", "-c", "{{staged}}"]
                command: ["/bin/systemctl", "reload", "nginx"]
              - bundle: dns/hosts
                file: hosts
                destination: /etc/hosts.consul
                min_lines: 10
                command: ["/usr/bin/pkill", "-HUP", "dnsmasq"]
            """, file: "render.yaml")
        #expect(config.outputs.count == 2)
        #expect(config.outputs[0].content == .template(path: "/etc/git2kv/templates/web.conf.mustache"))
        #expect(config.outputs[0].mode == 0o644)
        #expect(config.outputs[1].content == .file(name: "hosts"))
        #expect(config.outputs[1].minLines == 10)
        #expect(config.wait == RendererConfig.Wait(min: .seconds(2), max: .seconds(10)))
        #expect(config.bundleKeys == ["config/apps/web", "dns/hosts"])
    }

    @Test("bad configurations are refused with file and line", arguments: [
        ("outputs:\n  - bundle: a/b\n    destination: /x\n", 2, "give template"),
        ("outputs:\n  - bundle: a/b\n    file: f\n    destination: relative\n", 4, "absolute file path"),
        ("outputs:\n  - bundle: a/b\n    file: f\n    destination: /x\n    check: [\"/bin/true\"]\n", 5, "{{staged}}"),
        ("outputs:\n  - bundle: a/b\n    file: f\n    destination: /x\n    command: \"systemctl reload\"\n", 5, "expected a list"),
        ("outputs:\n  - bundle: a/b\n    file: f\n    destination: /x\n    command: [\"systemctl\", \"reload\"]\n", 5, "absolute path"),
        ("outputs:\n  - bundle: a/b\n    file: f\n    destination: /x\n    mode: rw-r--r--\n", 5, "octal"),
        ("outputs:\n  - bundle: a/b\n    file: f\n    destination: /x\n    min_line: 3\n", 5, "unknown key"),
        ("outputs:\n  - bundle: /a/b\n    file: f\n    destination: /x\n", 2, "not a bundle key"),
        ("wait: {min: 5s, max: 1s}\noutputs:\n  - {bundle: a, file: f, destination: /x}\n", 1, "max must not be shorter"),
        ("outputs:\n  - {bundle: a, file: f, destination: /x}\n  - {bundle: b, file: f, destination: /x}\n", 3, "already written"),
        ("outputs: []\n", 1, "at least one output"),
        ("outputs:\n  - {bundle: a, file: f, destination: /x\n", 3, "invalid YAML"),
        ("outputs:\n  - {bundle: a, file: f, destination: /x, hosts: {}}\n", 2, "select something"),
        ("outputs:\n  - {bundle: a, template: /t, destination: /x, hosts: {services: [web]}}\n", 2, "give file, not template"),
        ("outputs:\n  - {bundle: a, file: f, destination: /x, hosts: {service: [web]}}\n", 2, "unknown key"),
    ])
    func refused(text: String, line: Int, message: String) {
        do {
            _ = try RendererConfig.parse(text, file: "render.yaml")
            Issue.record("accepted: \(text)")
        } catch {
            #expect(error.file == "render.yaml")
            #expect(error.line == line, "\(error)")
            #expect(error.message.contains(message), "\(error)")
        }
    }

    @Test("an output's hosts selection parses, and outputs of one key select together")
    func hostsSelection() throws {
        let config = try RendererConfig.parse(
            """
            outputs:
              - {bundle: dns/hosts, file: hosts, destination: /a, hosts: {services: [Web, "db-*"], tags: [primary]}}
              - {bundle: dns/hosts, file: hosts, destination: /b, hosts: {nodes: true}}
              - {bundle: dns/other, file: hosts, destination: /c}
            """, file: "render.yaml")
        #expect(config.outputs[0].hosts == HostsSelection(services: ["web", "db-*"], tags: ["primary"]))
        #expect(config.hostsSelections["dns/hosts"] == .some(HostsSelection(services: ["web", "db-*"], tags: ["primary"], nodes: true)))
        #expect(config.hostsSelections["dns/other"] == .some(nil), "an output without a selection takes everything")
    }
}
