import Foundation
import TestFixtures

/// The directories, ports and configuration files of one chaos run: a bare origin repository,
/// a kv-server data directory, a daemon with two mappings (bundle and files layout) and a
/// renderer delivering a template, a verbatim file and a chunked file.
struct ChaosWorkspace: Sendable {
    static let webhookSecret = "reliability-webhook-secret"

    let root: String
    let kvPort: Int
    let daemonPort: Int
    let rendererPort: Int

    var origin: String { root + "/origin.git" }
    var kvDataDirectory: String { root + "/kv-data" }
    var daemonConfig: String { root + "/git2kv.yaml" }
    var rendererConfig: String { root + "/render.yaml" }
    var template: String { root + "/web.conf.mustache" }
    var rendered: String { root + "/rendered" }
    var commandLog: String { root + "/command-runs.log" }
    var kvAddress: String { "http://127.0.0.1:\(kvPort)" }
    var daemonAddress: String { "http://127.0.0.1:\(daemonPort)" }
    var rendererAddress: String { "http://127.0.0.1:\(rendererPort)" }
    func log(_ name: String) -> String { root + "/logs/\(name).log" }

    /// Destinations the renderer keeps, by the name the checks use.
    var webConf: String { rendered + "/web.conf" }
    var settingsJSON: String { rendered + "/settings.json" }
    var blob: String { rendered + "/blob.txt" }

    static func create(in root: String) throws -> ChaosWorkspace {
        let ports = ClosedPort.find(count: 3)
        let workspace = ChaosWorkspace(root: root, kvPort: ports[0], daemonPort: ports[1], rendererPort: ports[2])
        for directory in [root + "/logs", workspace.rendered, workspace.kvDataDirectory] {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
        try workspace.writeConfigurations()
        return workspace
    }

    private func writeConfigurations() throws {
        try """
            kv: { address: "\(kvAddress)", timeout: 5s }
            state_dir: \(root)/daemon-state
            http: { listen: "127.0.0.1:\(daemonPort)" }
            ha: { enabled: false }
            repos:
              - name: config
                url: "file://\(origin)"
                branches: [main]
                poll_interval: 1s
                webhook: { provider: generic, secret_env: RELIABILITY_WEBHOOK_SECRET }
                mappings:
                  - { source: apps, prefix: config/apps }
                  - { source: flat, prefix: config/flat, layout: files }

            """.write(toFile: daemonConfig, atomically: true, encoding: .utf8)
        try ExpectedRender.template.write(toFile: template, atomically: true, encoding: .utf8)
        try """
            kv: { address: "\(kvAddress)", timeout: 5s }
            state_dir: \(root)/render-state
            wait: { min: 50ms, max: 300ms }
            watch: { wait: 10s }
            listen: "127.0.0.1:\(rendererPort)"
            outputs:
              - bundle: config/apps/web
                template: \(template)
                destination: \(webConf)
                command: ["/bin/sh", "-c", "sha256sum < \(webConf) | cut -d' ' -f1 >> \(commandLog)"]
              - bundle: config/apps/web
                file: settings.json
                destination: \(settingsJSON)
              - bundle: config/apps/big
                file: blob.txt
                destination: \(blob)

            """.write(toFile: rendererConfig, atomically: true, encoding: .utf8)
    }
}
