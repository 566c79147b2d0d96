/// Shared, deterministic fixture content for tests and benchmarks.
public enum StandardFixtures {
    /// `directories` × `filesPerDirectory` small JSON files under `root/dir-NNN/file-NNNN.json`.
    public static func manyFiles(root: String = "apps", directories: Int, filesPerDirectory: Int) -> [FixtureChange] {
        var changes: [FixtureChange] = []
        changes.reserveCapacity(directories * filesPerDirectory)
        for directory in 0..<directories {
            for file in 0..<filesPerDirectory {
                changes.append(.text(path(root: root, directory: directory, file: file), content(directory: directory, file: file, revision: 0)))
            }
        }
        return changes
    }

    public static func path(root: String = "apps", directory: Int, file: Int) -> String {
        "\(root)/dir-\(pad(directory, 3))/file-\(pad(file, 4)).json"
    }

    public static func content(directory: Int, file: Int, revision: Int) -> String {
        """
        {"directory": \(directory), "file": \(file), "revision": \(revision), "name": "service-\(directory)-\(file)", "replicas": \((directory * 7 + file) % 9 + 1)}

        """
    }

    /// A mixed repository: nested directories, a binary file, an empty file, an executable,
    /// a symlink inside and one escaping the source, a submodule, invalid JSON and YAML.
    public static func mixed() -> [FixtureChange] {
        [
            .text("apps/web/config.json", "{\"port\": 8080, \"workers\": 4}\n"),
            .text("apps/web/nginx/site.conf", "server { listen 80; }\n"),
            .text("apps/web/nginx/deep/more/nested.yaml", "a:\n  b:\n    c: 1\n"),
            .text("apps/api/settings.yaml", "timeout: 30\nretries: 3\n"),
            .write("apps/api/logo.png", [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0xFF, 0x10, 0x00]),
            .write("apps/api/empty.txt", []),
            .text("apps/api/healthcheck.sh", "#!/bin/sh\nexit 0\n", executable: true),
            .symlink("apps/api/current.json", target: "settings.yaml"),
            .symlink("apps/api/escape.json", target: "../../../etc/passwd"),
            .submodule("apps/vendor/lib", commit: "0123456789abcdef0123456789abcdef01234567"),
            .text("apps/broken/bad.json", "{\"port\": 8080,\n \"workers\": }\n"),
            .text("apps/broken/bad.yaml", "key: [unclosed\n  other: value\n"),
            .text("apps/root.txt", "a file directly in the source root\n"),
            .text("docs/README.md", "outside the apps source\n"),
        ]
    }

    private static func pad(_ value: Int, _ width: Int) -> String {
        let text = String(value)
        return text.count >= width ? text : String(repeating: "0", count: width - text.count) + text
    }
}
