/// Where the values a key depends on (chunks, shards) are stored: under the key's parent.
enum KeyPlacement {
    /// `relative` under the parent of `key` (`dns/hosts` → `dns/<relative>`; a key with no
    /// parent → `<relative>`).
    static func beside(_ key: String, _ relative: String) -> String {
        let parent = key.split(separator: "/").dropLast().joined(separator: "/")
        return (parent.isEmpty ? "" : parent + "/") + relative
    }
}

/// Where a staged rollout keeps a bundle's canary value: `<prefix>/.git2kv/canary/<bundle>`,
/// beside the live `<prefix>/<bundle>`. Chunks of a chunked canary value go beside it, so the
/// whole canary stage lives under `<prefix>/.git2kv/canary/` and is removed as one subtree.
public enum CanaryPlacement {
    public static let directory = ".git2kv/canary/"

    /// The canary key of the bundle key `P/<bundle>`.
    public static func canaryKey(ofBundleKey key: String) -> String {
        let segments = key.split(separator: "/", omittingEmptySubsequences: false)
        let name = segments.last.map(String.init) ?? key
        return KeyPlacement.beside(key, directory + name)
    }
}
