import Foundation
import TestFixtures

/// Malformed daemon, renderer and git2consul configuration files. Each must stop the command
/// with `file:line: reason` (or the file and reason where there is no line), and never show a
/// secret the file points at.
struct ConfigCorpus {
    let root: String

    private struct Case {
        let input: String
        let command: [String]
        let text: String
        let expected: [String]
        var fileName = "config.yaml"
        /// serve's start-up errors name the setting and the secret's origin rather than file:line.
        var namesConfigFile = true
    }

    private static let secret = "hunter2-never-printed"

    private var daemonHead: String { "kv: { address: \"http://127.0.0.1:1\" }\nstate_dir: \(root)/state\n" }
    private func repo(_ extra: String = "", mappings: String = "[{ source: apps, prefix: config/apps }]") -> String {
        "repos:\n  - name: config\n    url: \"file:///nonexistent\"\n    mappings: \(mappings)\n" + extra
    }
    private let sync = ["sync", "--dry-run", "--no-fetch"]
    private let render = ["render", "--once"]
    /// serve reads secrets and tokens at start; `timeout` ends it should it start anyway.
    private let serve = ["serve"]
    private var renderHead: String { "kv: { address: \"http://127.0.0.1:1\" }\nstate_dir: \(root)/render-state\n" }

    private var cases: [Case] {
        [
            Case(input: "YAML syntax error", command: sync, text: daemonHead + "repos: [\n  { name: config,\n", expected: [":5", "invalid YAML"]),
            Case(input: "empty file", command: sync, text: "", expected: ["repos"]),
            Case(input: "a list where a mapping belongs", command: sync, text: "- kv\n- repos\n", expected: [":1"]),
            Case(input: "misspelled required key", command: sync, text: daemonHead + "repos:\n  - name: config\n    url: \"file:///x\"\n    mapings: []\n",
                 expected: [":6", "mapings", "typo"]),
            Case(input: "unknown key", command: sync, text: daemonHead + "colour: blue\n" + repo(), expected: [":3", "colour"]),
            Case(input: "wrong type", command: sync, text: daemonHead + repo("    poll_interval: fast\n"), expected: [":7", "poll_interval"]),
            Case(input: "poll interval under a second", command: sync, text: daemonHead + repo("    poll_interval: 200ms\n"), expected: [":7", "1s"]),
            Case(input: "missing repos", command: sync, text: daemonHead, expected: ["repos"]),
            Case(input: "unsupported URL scheme", command: sync, text: daemonHead.replacingOccurrences(of: "http://", with: "ftp://") + repo(),
                 expected: [":1", "http"]),
            Case(input: "overlapping prefixes", command: sync,
                 text: daemonHead + repo(mappings: "[{ source: apps, prefix: config/apps }, { source: web, prefix: config/apps/web }]"),
                 expected: ["config/apps/web", "overlap"]),
            Case(input: "prefix climbing out with ..", command: sync, text: daemonHead + repo(mappings: "[{ source: apps, prefix: config/../secrets }]"),
                 expected: [":6", ".."]),
            Case(input: "two branches without {branch}", command: sync, text: daemonHead + repo("    branches: [main, staging]\n"),
                 expected: ["{branch}"]),
            Case(input: "webhook without a secret", command: sync, text: daemonHead + repo("    webhook: { provider: github }\n"),
                 expected: [":7", "secret"]),
            Case(input: "secret file that does not exist", command: serve,
                 text: daemonHead + repo("    webhook: { provider: github, secret_file: \(root)/missing-secret }\n"),
                 expected: ["webhook secret", "missing-secret"], namesConfigFile: false),
            Case(input: "duplicate repo names", command: sync,
                 text: daemonHead + repo() + "  - name: config\n    url: \"file:///y\"\n    mappings: [{ source: web, prefix: config/web }]\n",
                 expected: [":7", "unique"]),
            Case(input: "etcd credentials without USER:", command: serve,
                 text: "kv: { backend: etcd, address: \"http://127.0.0.1:1\", token_env: RELIABILITY_CORPUS_TOKEN }\nstate_dir: \(root)/state\n" + repo(),
                 expected: ["environment variable RELIABILITY_CORPUS_TOKEN", "USER:PASSWORD"], namesConfigFile: false),
            Case(input: "renderer: relative destination", command: render,
                 text: renderHead + "outputs:\n  - { bundle: config/apps/web, file: a, destination: rendered/a }\n", expected: [":4", "absolute"]),
            Case(input: "renderer: check without {{staged}}", command: render,
                 text: renderHead + "outputs:\n  - { bundle: config/apps/web, file: a, destination: /tmp/x, check: [\"/bin/true\"] }\n",
                 expected: [":4", "{{staged}}"]),
            Case(input: "renderer: template and file both given", command: render,
                 text: renderHead + "outputs:\n  - { bundle: config/apps/web, file: a, template: /t, destination: /tmp/x }\n", expected: [":4"]),
            Case(input: "renderer: two outputs with one destination", command: render,
                 text: renderHead + "outputs:\n  - { bundle: a/b, file: a, destination: /tmp/x }\n  - { bundle: a/c, file: a, destination: /tmp/x }\n",
                 expected: [":5", "/tmp/x"]),
            Case(input: "renderer: command not an absolute path", command: render,
                 text: renderHead + "outputs:\n  - { bundle: a/b, file: a, destination: /tmp/x, command: [\"systemctl\", \"reload\"] }\n",
                 expected: [":4", "absolute"]),
            Case(input: "renderer: mode that is not octal", command: render,
                 text: renderHead + "outputs:\n  - { bundle: a/b, file: a, destination: /tmp/x, mode: \"0999\" }\n", expected: [":4", "mode"]),
            Case(input: "git2consul config.json that is not JSON", command: sync, text: "{\"repos\": [\n  {\"name\": \"x\",\n", expected: ["config.json"],
                 fileName: "config.json"),
            Case(input: "git2consul config.json writing at the KV root", command: sync,
                 text: #"{"repos": [{"name": "x", "url": "file:///x", "branches": ["master"], "ignore_repo_name": true, "include_branch_name": false}]}"#,
                 expected: ["root"], fileName: "config.json"),
            Case(input: "git2consul credentials in a broken file", command: sync,
                 text: #"{"repos": [{"name": "x", "url": "https://git.example.com/x.git", "credentials": {"username": "u", "password": ""# + Self.secret + #""}, "branches": {"main": 1}}]}"#,
                 expected: ["branches"], fileName: "config.json"),
        ]
    }

    func run() throws -> [CorpusOutcome] {
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        var outcomes: [CorpusOutcome] = []
        for (number, item) in cases.enumerated() {
            let directory = root + "/\(number)"
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            let path = directory + "/" + item.fileName
            try item.text.write(toFile: path, atomically: true, encoding: .utf8)
            let result = try ProcessRunner.run(
                "/usr/bin/timeout", ["20", Git2KVBinary.path] + item.command + ["--config", path],
                environment: ProcessInfo.processInfo.environment.merging(["RELIABILITY_CORPUS_TOKEN": Self.secret]) { $1 })
            let expected = (item.namesConfigFile ? [path] : []) + item.expected
            outcomes.append(CorpusOutcome(category: "configs", input: item.input, problem: expectFailure(result, naming: expected, never: [Self.secret])))
        }
        return outcomes
    }
}
