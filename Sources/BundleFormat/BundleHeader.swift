/// Everything a bundle says about itself except file contents.
public struct BundleHeader: Codable, Hashable, Sendable {
    public var source: BundleSource
    public var commit: BundleCommit
    public var files: [BundleFileEntry]
    public var digest: String

    public init(source: BundleSource, commit: BundleCommit, files: [BundleFileEntry], digest: String) {
        self.source = source
        self.commit = commit
        self.files = files
        self.digest = digest
    }
}
