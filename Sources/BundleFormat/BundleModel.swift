/// Where a bundle's files come from in git.
public struct BundleSource: Codable, Hashable, Sendable {
    /// The repository's configured name.
    public var repo: String
    public var branch: String
    /// The bundle's directory in the repository (the mapping source plus the bundle name).
    public var path: String

    public init(repo: String, branch: String, path: String) {
        self.repo = repo
        self.branch = branch
        self.path = path
    }
}

/// The commit a bundle's content was taken from.
public struct BundleCommit: Codable, Hashable, Sendable {
    public var id: String
    public var author: String
    public var email: String
    /// Seconds since 1970-01-01 UTC.
    public var time: Int64
    public var summary: String

    public init(id: String, author: String, email: String, time: Int64, summary: String) {
        self.id = id
        self.author = author
        self.email = email
        self.time = time
        self.summary = summary
    }
}

/// The git file modes a bundle carries.
public enum BundleFileMode: String, Codable, Hashable, Sendable, CaseIterable {
    case regular = "100644"
    case executable = "100755"
    case symlink = "120000"
}

/// One file of a bundle with its content.
public struct BundleFile: Hashable, Sendable {
    /// Relative to the bundle's directory, `/`-separated.
    public var path: String
    public var mode: BundleFileMode
    public var content: [UInt8]

    public init(path: String, mode: BundleFileMode = .regular, content: [UInt8]) {
        self.path = path
        self.mode = mode
        self.content = content
    }

    public var sha256: String { SHA256Hex.of(content) }

    /// The content as text, or nil when it is not valid UTF-8.
    public var text: String? { String(validating: content, as: UTF8.self) }
}

/// A file as the bundle header lists it: everything but the content.
public struct BundleFileEntry: Codable, Hashable, Sendable {
    public var path: String
    public var mode: BundleFileMode
    public var sha256: String
    public var size: Int

    public init(path: String, mode: BundleFileMode, sha256: String, size: Int) {
        self.path = path
        self.mode = mode
        self.sha256 = sha256
        self.size = size
    }
}

/// A bundle: a set of files from one directory of one commit, with where they came from.
public struct ConfigBundle: Hashable, Sendable {
    public var source: BundleSource
    public var commit: BundleCommit
    /// Sorted by path (byte order), unique.
    public let files: [BundleFile]
    /// The files as the header lists them (checksums computed once, here).
    public let entries: [BundleFileEntry]
    /// The digest over the files (paths, modes, sizes and checksums), independent of the commit:
    /// two commits with the same files give the same digest.
    public let digest: String

    /// Files are sorted here; duplicates and bad paths are rejected when encoding.
    public init(source: BundleSource, commit: BundleCommit, files: [BundleFile]) {
        self.source = source
        self.commit = commit
        self.files = files.sorted { $0.path.utf8.lexicographicallyPrecedes($1.path.utf8) }
        entries = self.files.map { BundleFileEntry(path: $0.path, mode: $0.mode, sha256: $0.sha256, size: $0.content.count) }
        digest = BundleDigest.compute(entries)
    }

    public func file(at path: String) -> BundleFile? {
        files.first { $0.path == path }
    }
}
