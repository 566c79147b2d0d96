import Crypto

/// The digest of a bundle's file list. See docs/bundle-format.md for the canonical form.
public enum BundleDigest {
    static let domain = "git2kv-bundle-digest-v1\n"

    /// `entries` must be sorted by path.
    public static func compute(_ entries: [BundleFileEntry]) -> String {
        var canonical: [UInt8] = Array(domain.utf8)
        for entry in entries {
            canonical += Array("\(entry.mode.rawValue) \(entry.size) \(entry.sha256) \(entry.path.utf8.count):".utf8)
            canonical += Array(entry.path.utf8)
            canonical.append(UInt8(ascii: "\n"))
        }
        return SHA256Hex.of(canonical)
    }
}
