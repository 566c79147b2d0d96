import BundleFormat

/// Human-readable summaries of bundles for the command line.
enum BundleDescription {
    static func describe(_ bundle: ConfigBundle, encodedSize: Int) -> String {
        var lines = [
            "bundle    verified (\(bundle.files.count) files, \(encodedSize) bytes encoded)",
            "source    \(bundle.source.repo) \(bundle.source.branch):\(bundle.source.path)",
            "commit    \(bundle.commit.id) \(bundle.commit.summary)",
            "author    \(bundle.commit.author) <\(bundle.commit.email)> at \(bundle.commit.time)",
            "digest    \(bundle.digest)",
        ]
        for file in bundle.files {
            lines.append("  \(file.mode.rawValue) \(file.sha256.prefix(12)) \(String(file.content.count).leftPadded(9)) \(file.path)")
        }
        return lines.joined(separator: "\n")
    }

    static func describe(_ manifest: ChunkManifest) -> String {
        [
            "manifest  \(manifest.chunks.count) chunks, \(manifest.size) bytes",
            "commit    \(manifest.commit)",
            "digest    \(manifest.digest)",
            "sha256    \(manifest.sha256)",
        ].joined(separator: "\n")
    }
}

private extension String {
    func leftPadded(_ width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}
