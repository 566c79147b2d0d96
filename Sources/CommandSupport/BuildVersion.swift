import CBuildInfo

/// What `--version` prints: the release and the commit the binary was built from.
package enum BuildVersion {
    package static let release = "0.1.0"

    package static var commit: String { String(cString: git2kv_build_commit()) }

    package static var text: String { "\(release) (commit \(commit))" }
}
