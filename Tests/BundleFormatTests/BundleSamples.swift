@testable import BundleFormat

enum BundleSamples {
    static let source = BundleSource(repo: "config", branch: "main", path: "apps/web")
    static let commit = BundleCommit(
        id: "0123456789abcdef0123456789abcdef01234567", author: "Ada", email: "ada@example.com",
        time: 1_700_000_000, summary: "Raise worker count")

    static let files = [
        BundleFile(path: "config.json", content: Array("{\"workers\": 4}\n".utf8)),
        BundleFile(path: "nginx/site.conf", content: Array("server { listen 80; }\n".utf8)),
        BundleFile(path: "bin/reload.sh", mode: .executable, content: Array("#!/bin/sh\n".utf8)),
        BundleFile(path: "empty", content: []),
        BundleFile(path: "logo.bin", content: [0x00, 0xFF, 0x10, 0x80, 0x7F]),
        BundleFile(path: "café/ünïcode.yaml", content: Array("k: v\n".utf8)),
    ]

    static var bundle: ConfigBundle { ConfigBundle(source: source, commit: commit, files: files) }

    static func header(for bundle: ConfigBundle) -> BundleHeader {
        BundleHeader(source: bundle.source, commit: bundle.commit, files: bundle.entries, digest: bundle.digest)
    }
}
