import Foundation
import GitKit
import Pipeline
import Testing
import ConfigParsing

@Suite("Daemon configuration")
struct ConfigTests {
    static let valid = """
        kv: { backend: consul, address: "http://127.0.0.1:8500/", token_file: /etc/git2kv/token }
        http: { listen: "127.0.0.1:9420" }
        state_dir: /var/lib/git2kv
        repos:
          - name: config
            url: "https://git.example.com/ops/config.git"
            branches: [main]
            poll_interval: 1m30s
            webhook: { provider: github, secret_file: /etc/git2kv/webhook-secret }
            credentials: { token_file: /etc/git2kv/git-token }
            mappings:
              - source: apps/
                prefix: config/apps
                layout: bundle
                bundle_by: directory
                token_file: /etc/git2kv/apps.token
                include: ["**/*.json", "*.yaml"]
                exclude: [secret.json]
                validation: { max_file_size: 64KiB, text_only: true }
              - source: dns
                prefix: dns
                bundle_by: single
        """

    @Test("the design's example parses with every key")
    func parsesDesignExample() throws {
        let config = try DaemonConfig.parse(Self.valid, file: "git2kv.yaml")
        #expect(config.kv.address == "http://127.0.0.1:8500")
        #expect(config.kv.token == .file("/etc/git2kv/token"))
        #expect(config.stateDirectory == "/var/lib/git2kv")
        let repo = try #require(config.repos.first)
        #expect(repo.pollInterval == .seconds(90))
        #expect(repo.webhook?.provider == .github)
        let apps = repo.mappings[0]
        #expect(apps.source == "apps")
        #expect(apps.token == .file("/etc/git2kv/apps.token"))
        #expect(apps.validation.maxFileSize == 65536)
        #expect(apps.validation.textOnly)
        #expect(repo.mappings[1].bundleBy == .single)
    }

    @Test(
        "bad files are refused with file:line and the reason",
        arguments: [
            ("repos:\n  - name: a\n    url: u\n    mapings: []\n", 4, "found mapings instead"),
            ("repos:\n  - name: a\n    url: u\n    mappings: [{prefix: p}]\n    polling: 3\n", 5, "unknown key repos[0].polling"),
            ("repos:\n  - name: a\n    url: u\n    mappings:\n      - source: x\n", 5, "missing required key prefix"),
            ("repos:\n  - name: a\n    url: u\n    poll_interval: often\n    mappings: [{prefix: p}]\n", 4, "is not a duration"),
            ("repos:\n  - name: a\n    url: u\n    mappings: [{prefix: p, layout: tree}]\n", 4, "is not one of: bundle, files"),
            ("repos:\n  - name: a\n    url: u\n    mappings: [{prefix: ../p}]\n", 4, "must not contain .."),
            ("repos:\n  - name: a\n    url: u\n    branches: [main, dev]\n    mappings: [{prefix: p}]\n", 5, "needs {branch}"),
            ("repos:\n  - name: a\n    url: u\n    webhook: { provider: github }\n    mappings: [{prefix: p}]\n", 4, "needs secret_file or secret_env"),
            ("kv: { address: 127.0.0.1:8500 }\nrepos: []\n", 1, "must start with http:// or https://"),
            ("kv: { endpoints: [\"http://a:2379\"] }\nrepos: []\n", 1, "endpoints lists etcd members"),
            ("kv:\n  backend: etcd\n  datacenter: dc1\nrepos: []\n", 3, "datacenter is a Consul setting"),
            ("kv:\n  backend: etcd\n  endpoints: [\"http://a:2379\", \"b:2379\"]\nrepos: []\n", 3, "must start with http://"),
            ("repos:\n  - name: a\n    url: u\n    mappings: [{prefix: p}\n", 5, "invalid YAML"),
            ("repos: 3\n", 1, "expected a list"),
            ("repos:\n  - name: a\n    url: u\n    timeouts: { connect: 0s }\n    mappings: [{prefix: p}]\n", 4, "must be at least 1s"),
            ("repos:\n  - name: a\n    url: u\n    timeouts: { read: 5s }\n    mappings: [{prefix: p}]\n", 4, "unknown key"),
            ("repos:\n  - name: a\n    url: u\n    poll_interval: 5s\n    fetch_limit: { every: 10s }\n    mappings: [{prefix: p}]\n", 5, "not be longer than poll_interval"),
            ("repos:\n  - name: a\n    url: u\n    fetch_limit: { burst: 0 }\n    mappings: [{prefix: p}]\n", 4, "must be at least 1"),
            ("http: { request_timeout: 100ms }\nrepos: []\n", 1, "must be at least 1s"),
            ("metrics:\n  dogstatsd: 127.0.0.1:8125\n  events: true\nrepos: []\n", 3, "events are sent by the renderer"),
            ("metrics: { dogstatsd: localhost }\nrepos: []\n", 1, "dogstatsd must be HOST:PORT"),
        ])
    func badFiles(text: String, line: Int, message: String) throws {
        let error = #expect(throws: ConfigError.self) { try DaemonConfig.parse(text, file: "bad.yaml") }
        #expect(error?.file == "bad.yaml")
        #expect(error?.line == line, "\(error?.description ?? "")")
        #expect(error?.message.contains(message) == true, "\(error?.description ?? "")")
    }

    @Test("fetch deadlines, fetch spacing, a CA file and the HTTP limits are read; unset ones keep their defaults")
    func endurance() throws {
        let text = """
            http: { listen: "127.0.0.1:0", request_timeout: 10s, idle_timeout: 2m, max_connections: 500 }
            repos:
              - name: a
                url: https://git.example.com/a.git
                timeouts: { connect: 5s, total: 1h }
                fetch_limit: { every: 3s, burst: 2 }
                credentials: { token_file: /t, ca_file: /etc/git2kv/ca.pem, known_hosts_file: /etc/git2kv/known_hosts }
                mappings: [{prefix: p}]
              - name: b
                url: https://git.example.com/b.git
                mappings: [{prefix: q}]
            """
        let config = try DaemonConfig.parse(text, file: "c.yaml")
        let a = config.repos[0]
        #expect(a.timeouts == FetchTimeouts(connect: .seconds(5), inactivity: .seconds(120), total: .seconds(3600)))
        #expect(a.fetchLimit.every == .seconds(3) && a.fetchLimit.burst == 2)
        #expect(config.repos[1].fetchLimit == FetchLimit())
        #expect(a.trust == RemoteTrust(caFile: "/etc/git2kv/ca.pem", knownHostsFile: "/etc/git2kv/known_hosts"))
        #expect(a.credentials == .token(.file("/t")))
        #expect(config.repos[1].timeouts == FetchTimeouts())
        #expect(config.repos[1].trust == RemoteTrust())
        #expect(config.serve.requestTimeout == .seconds(10) && config.serve.idleTimeout == .seconds(120) && config.serve.maxConnections == 500)
    }

    @Test("kv on etcd: the default address is etcd's, endpoints list every member")
    func etcdSettings() throws {
        let bare = try DaemonConfig.parse("kv: { backend: etcd }\nrepos: []\n", file: "e.yaml")
        #expect(bare.kv.backend == .etcd)
        #expect(bare.kv.memberAddresses == ["http://127.0.0.1:2379"])
        let cluster = try DaemonConfig.parse(
            "kv: { backend: etcd, endpoints: [\"http://10.0.0.1:2379/\", \"http://10.0.0.2:2379\"], token_file: /etc/git2kv/etcd-user }\nrepos: []\n",
            file: "e.yaml")
        #expect(cluster.kv.memberAddresses == ["http://10.0.0.1:2379", "http://10.0.0.2:2379"])
        #expect(cluster.kv.address == "http://10.0.0.1:2379")
        #expect(cluster.kv.token == .file("/etc/git2kv/etcd-user"))
    }

    @Test("overlapping prefixes are refused, siblings with a common start are not")
    func overlappingPrefixes() throws {
        let overlapping = "repos:\n  - name: a\n    url: u\n    mappings: [{source: x, prefix: config/apps}, {source: y, prefix: config/apps/web}]\n"
        let error = #expect(throws: ConfigError.self) { try DaemonConfig.parse(overlapping, file: "c.yaml") }
        #expect(error?.message.contains("overlaps") == true)
        let siblings = "repos:\n  - name: a\n    url: u\n    mappings: [{source: x, prefix: config/test}, {source: y, prefix: config/test_dev}]\n"
        #expect(try DaemonConfig.parse(siblings, file: "c.yaml").repos[0].mappings.count == 2)
    }

    @Test("a git2consul config.json maps to files-layout mappings with git2consul's key names")
    func git2consulConfig() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("git2kv-config-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let file = directory + "/config.json"
        try """
            {
              "version": "1.0",
              "local_store": "/var/lib/git2consul_cache",
              "repos": [{
                "name": "sample_configuration",
                "url": "https://github.com/ryanbreen/git2consul_data.git",
                "branches": ["dev", "prod"],
                "source_root": "config/",
                "mountpoint": "west",
                "expand_keys": true,
                "hooks": [{"type": "polling", "interval": "2"}, {"type": "github", "port": 5150, "url": "/gitpoke"}]
              }, {
                "name": "flat",
                "url": "https://example.com/flat.git",
                "include_branch_name": false,
                "ignore_file_extension": true
              }]
            }
            """.write(toFile: file, atomically: true, encoding: .utf8)
        let config = try DaemonConfig.load(file: file)
        #expect(config.stateDirectory == "/var/lib/git2consul_cache/git2kv")
        #expect(!config.serve.highAvailability, "git2consul ran one instance with a key-only token: no HA unless GIT2KV_HA says so")
        let sample = config.repos[0]
        #expect(sample.branches == ["dev", "prod"])
        #expect(sample.pollInterval == .seconds(120))
        #expect(sample.mappings[0].layout == .files)
        #expect(sample.mappings[0].source == "config")
        #expect(sample.mappings[0].prefix(for: "dev") == "west/sample_configuration/dev")
        #expect(sample.mappings[0].expandKeys)
        #expect(config.warnings.count == 1)
        #expect(config.warnings[0].contains("github hook is not carried over"))
        let flat = config.repos[1]
        #expect(flat.branches == ["master"])
        #expect(flat.mappings[0].prefix(for: "master") == "flat")
        #expect(flat.mappings[0].ignoreFileExtension)
    }

    @Test("an unknown key in a git2consul repo is reported with its line")
    func git2consulUnknownKey() throws {
        let text = "{\n  \"repos\": [{\n    \"name\": \"r\",\n    \"url\": \"u\",\n    \"brnaches\": [\"main\"]\n  }]\n}\n"
        let directory = FileManager.default.temporaryDirectory.path + "/git2kv-g2c-\(UUID().uuidString).json"
        try text.write(toFile: directory, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let error = #expect(throws: ConfigError.self) { try DaemonConfig.load(file: directory) }
        #expect(error?.line == 5)
        #expect(error?.message.contains("brnaches") == true)
    }
}

@Suite("Rollout configuration")
struct RolloutConfigTests {
    static func mapping(_ rollout: String, layout: String = "bundle") -> String {
        """
        repos:
          - name: config
            url: u
            mappings: [{source: apps, prefix: config/apps, layout: \(layout), rollout: \(rollout)}]
        """
    }

    @Test("defaults, globs and durations")
    func parses() throws {
        let config = try DaemonConfig.parse(Self.mapping(#"{canary: {nodes: ["canary-*", "web-1?"], min_nodes: 3, bake: 90s}, on_failure: freeze}"#), file: "c.yaml")
        let rollout = try #require(config.repos[0].mappings[0].rollout)
        #expect(rollout.minNodes == 3 && rollout.bake == .seconds(90) && rollout.onFailure == .freeze)
        #expect(rollout.isCanary("canary-eu-1") && rollout.isCanary("web-12") && !rollout.isCanary("web-123") && !rollout.isCanary("db-1"))
        let defaults = try #require(try DaemonConfig.parse(Self.mapping(#"{canary: {nodes: canary-1}}"#), file: "c.yaml").repos[0].mappings[0].rollout)
        #expect(defaults.minNodes == 1 && defaults.bake == .seconds(60) && defaults.canaryNodes == ["canary-1"])
        #expect(config.reportsPrefix == "git2kv/reports")
    }

    @Test("refusals name the line and the reason", arguments: [
        (#"{canary: {nodes: ["c-*"]}}"#, "files", "layout: bundle"),
        (#"{canary: {nodes: []}}"#, "bundle", "at least one"),
        (#"{canary: {nodes: ["a/b"]}}"#, "bundle", "no '/'"),
        (#"{canary: {nodes: ["c"], min_nodes: 0}}"#, "bundle", "at least 1"),
        (#"{canary: {nodes: ["c"], bake: -1s}}"#, "bundle", "duration"),
        (#"{canary: {nodes: ["c"]}, on_failure: rollback}"#, "bundle", "freeze"),
        (#"{on_failure: freeze}"#, "bundle", "canary"),
        (#"{canary: {nodes: ["c"], size: 2}}"#, "bundle", "size"),
    ])
    func refusals(rollout: String, layout: String, mentions: String) {
        do {
            _ = try DaemonConfig.parse(Self.mapping(rollout, layout: layout), file: "c.yaml")
            Issue.record("\(rollout) was accepted")
        } catch {
            #expect(error.description.contains("c.yaml:"), "\(error)")
            #expect(error.description.contains(mentions), "\(error)")
        }
    }
}

@Suite("ACL policies")
struct ACLPolicyTests {
    @Test("a policy covers each branch's prefix, and a tag pattern up to its first wildcard")
    func tagPatterns() throws {
        let text = """
            repos:
              - name: config
                url: u
                branches: [main]
                tags: ["v*"]
                mappings: [{source: apps, prefix: "release/{branch}"}]
            """
        let policies = ACLPolicy.policies(for: try DaemonConfig.parse(text, file: "c.yaml"))
        #expect(policies.map(\.keyPrefixes) == [["release/main/", "release/v"], ["release/main/", "release/v"]])
        #expect(policies[0].hcl.contains("key_prefix \"release/v\" {\n  policy = \"write\"\n}"))
        #expect(!policies[0].hcl.contains("*"))
        #expect(policies[0].etcdCommands.contains("etcdctl role grant-permission --prefix=true git2kv-config-release--branch--writer readwrite 'release/v'"))
        #expect(policies[1].etcdCommands.contains("git2kv-config-release--branch--reader read 'release/main/'"))
    }

    @Test("with HA only a repo's first mapping creates sessions; the others lock a guard in their own prefix")
    func sessionRightsForTheLeadMappingOnly() throws {
        let text = """
            repos:
              - name: config
                url: u
                mappings: [{source: apps, prefix: config/apps}, {source: platform, prefix: config/platform}]
            """
        let policies = ACLPolicy.policies(for: try DaemonConfig.parse(text, file: "c.yaml"))
        let writers = policies.filter { $0.access == .write }
        #expect(writers.map(\.createsSessions) == [true, false])
        #expect(writers[0].hcl.contains("session_prefix"))
        #expect(!writers[1].hcl.contains("session_prefix"))
        #expect(writers[1].keyPrefixes == ["config/platform/"], "the guard key config/platform/.git2kv/leader is under it")
        let withoutHA = ACLPolicy.policies(for: try DaemonConfig.parse("ha: { enabled: false }\n" + text, file: "c.yaml"))
        #expect(withoutHA.allSatisfy { !$0.createsSessions })
    }

    @Test("a staged rollout: the writer reads the reports, fleet renderers are denied the canary values, canary renderers are not, a node writes only its own report")
    func rolloutPolicies() throws {
        let text = """
            reports_prefix: fleet/reports
            repos:
              - name: config
                url: u
                mappings: [{source: apps, prefix: config/apps, rollout: {canary: {nodes: ["canary-*"]}}}]
            """
        let config = try DaemonConfig.parse(text, file: "c.yaml")
        let policies = ACLPolicy.policies(for: config)
        #expect(policies.map(\.name) == ["git2kv-config-config-apps-writer", "git2kv-config-config-apps-reader", "git2kv-config-config-apps-canary-reader"])
        #expect(policies[0].hcl.contains("key_prefix \"fleet/reports/\" {\n  policy = \"read\"\n}"))
        #expect(policies[1].hcl.contains("key_prefix \"config/apps/.git2kv/canary/\" {\n  policy = \"deny\"\n}"))
        #expect(!policies[2].hcl.contains("deny"))
        let node = ACLPolicy.nodeReport(config, node: "web-7")
        #expect(node.hcl == "key \"fleet/reports/web-7\" {\n  policy = \"write\"\n}")
        #expect(node.json.contains(#""key" : {"#) && node.json.contains("fleet/reports/web-7"))
        #expect(node.etcdCommands.contains("etcdctl role grant-permission git2kv-report-web-7 readwrite 'fleet/reports/web-7'"))
        #expect(!node.etcdCommands.contains("--prefix=true"), "a node's grant is its one key")
    }
}
