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

extension BundleDescription {
    static func describe(_ manifest: HostsManifest) -> String {
        let stored = manifest.shards.filter { $0 != 0 }.count
        return [
            "hosts     generation \(manifest.generation), \(manifest.shards.count) shards (\(stored) not empty), \(manifest.lines) lines of \(manifest.file)",
            "domain    \(manifest.domain)",
            "author    \(manifest.author) at \(manifest.time)",
            "summary   \(manifest.summary)",
            "sha256    \(manifest.sha256)",
        ].joined(separator: "\n")
    }

    static func describe(_ shard: HostsShard) -> String {
        var lines = ["shard     \(shard.index) of \(shard.count), generation \(shard.generation), \(shard.entities.count) names"]
        for entity in shard.entities {
            lines.append("  \(entity.kind.rawValue) \(entity.name): \(entity.addresses.map(\.address).joined(separator: " "))")
        }
        return lines.joined(separator: "\n")
    }
}

private extension String {
    func leftPadded(_ width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}
