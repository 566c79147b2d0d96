/// The daemon configuration tests and benchmarks write: one repository on `main` against one
/// KV address, with the given mappings (a YAML flow list).
public enum DaemonConfigText {
    public static func yaml(
        kvAddress: String, stateDirectory: String, repoName: String = "config", repoURL: String, mappings: String
    ) -> String {
        """
        kv: { address: "\(kvAddress)" }
        state_dir: \(stateDirectory)
        repos:
          - name: \(repoName)
            url: "\(repoURL)"
            branches: [main]
            mappings: \(mappings)
        """
    }
}
