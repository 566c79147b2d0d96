import Foundation

/// The renderer's template and what it must produce for a tree, computed here without the
/// renderer's code so the comparison is independent.
enum ExpectedRender {
    static let template = """
        port={{files.settings_json.data.port}}
        greeting={{files.settings_json.data.greeting}}
        {{#files.upstreams_yaml.data.backends}}
        server {{.}};
        {{/files.upstreams_yaml.data.backends}}
        end

        """

    /// What each destination holds when the renderer has delivered `tree`; nil for an
    /// output whose bundle is absent.
    static func outputs(of tree: ConfigHistory.Tree, in workspace: ChaosWorkspace) -> [String: [UInt8]] {
        var outputs: [String: [UInt8]] = [:]
        if let settings = tree["apps/web/settings.json"] {
            outputs[workspace.settingsJSON] = settings
            outputs[workspace.webConf] = webConf(settings: settings, upstreams: tree["apps/web/upstreams.yaml"] ?? [])
        }
        if let blob = tree["apps/big/blob.txt"] { outputs[workspace.blob] = blob }
        return outputs
    }

    private static func webConf(settings: [UInt8], upstreams: [UInt8]) -> [UInt8] {
        let object = (try? JSONSerialization.jsonObject(with: Data(settings))) as? [String: Any] ?? [:]
        var text = "port=\(object["port"].map { "\($0)" } ?? "")\n"
        text += "greeting=\(object["greeting"].map { "\($0)" } ?? "")\n"
        for line in String(decoding: upstreams, as: UTF8.self).split(separator: "\n") where line.hasPrefix("  - ") {
            text += "server \(line.dropFirst(4));\n"
        }
        text += "end\n"
        return Array(text.utf8)
    }
}
