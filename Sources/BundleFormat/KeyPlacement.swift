/// Where the values a key depends on (chunks, shards) are stored: under the key's parent.
enum KeyPlacement {
    /// `relative` under the parent of `key` (`dns/hosts` → `dns/<relative>`; a key with no
    /// parent → `<relative>`).
    static func beside(_ key: String, _ relative: String) -> String {
        let parent = key.split(separator: "/").dropLast().joined(separator: "/")
        return (parent.isEmpty ? "" : parent + "/") + relative
    }
}
