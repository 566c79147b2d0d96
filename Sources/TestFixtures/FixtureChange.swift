/// One change in a fixture commit.
public enum FixtureChange: Sendable {
    case write(String, [UInt8], executable: Bool = false)
    /// A path given as raw bytes (for names that are not UTF-8).
    case writeBytesPath([UInt8], [UInt8])
    case symlink(String, target: String)
    /// A submodule (gitlink) entry pointing at a commit id.
    case submodule(String, commit: String)
    case delete(String)
    case rename(from: String, to: String)

    public static func text(_ path: String, _ content: String, executable: Bool = false) -> FixtureChange {
        .write(path, Array(content.utf8), executable: executable)
    }
}
