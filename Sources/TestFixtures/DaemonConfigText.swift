/// The daemon configuration tests and benchmarks write: one repository on `main` against one
/// KV address (or a whole `kv:` flow mapping), with the given mappings (a YAML flow list), plus
/// optional repo settings (e.g. `webhook:` lines, indented four spaces) and top-level sections
/// (`ha:`, `http:`).
public enum DaemonConfigText {
    public static func yaml(
        kvAddress: String, kvSetting: String? = nil, stateDirectory: String, repoName: String = "config", repoURL: String, mappings: String,
        repoSettings: [String] = [], topLevel: [String] = []
    ) -> String {
        var lines = [
            "kv: \(kvSetting ?? "{ address: \"\(kvAddress)\" }")",
            "state_dir: \(stateDirectory)",
        ]
        lines += topLevel
        lines += [
            "repos:",
            "  - name: \(repoName)",
            "    url: \"\(repoURL)\"",
            "    branches: [main]",
            "    mappings: \(mappings)",
        ]
        lines += repoSettings.map { "    " + $0 }
        return lines.joined(separator: "\n") + "\n"
    }
}
