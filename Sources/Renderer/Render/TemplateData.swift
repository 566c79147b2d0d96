import BundleFormat

/// What a template sees (documented in docs/configuration.md):
/// `bundle.{key,digest}`, `commit.{id,short,author,email,time,summary}`, `source.{repo,branch,path}`,
/// `files.<name>.{path,name,text,data,sha256,size}` with `.`, `/` and `-` of the path as `_`,
/// `file_list` (the same, in path order), `files_digest` (of the files the template reads) and
/// `node.{hostname,env.NAME}`. File data is parsed only when a template names it.
struct TemplateData {
    let root: [String: Any]
    let reads: FileReads
    let filesDigest: FilesDigest

    init(_ verified: VerifiedBundle, facts: NodeFacts) {
        let bundle = verified.bundle
        let reads = FileReads()
        let files = zip(bundle.files, bundle.entries).map { FileNode($0, sha256: $1.sha256, reads: reads) }
        let filesDigest = FilesDigest()
        root = [
            "bundle": ["key": verified.key, "digest": bundle.digest],
            "commit": [
                "id": bundle.commit.id, "short": String(bundle.commit.id.prefix(12)), "author": bundle.commit.author,
                "email": bundle.commit.email, "time": bundle.commit.time, "summary": bundle.commit.summary,
            ],
            "source": ["repo": bundle.source.repo, "branch": bundle.source.branch, "path": bundle.source.path],
            "files": FilesNode(files),
            "file_list": files,
            "files_digest": filesDigest,
            "node": ["hostname": facts.hostname, "env": facts.environment],
        ]
        self.reads = reads
        self.filesDigest = filesDigest
        self.entries = bundle.entries
    }

    private let entries: [BundleFileEntry]

    /// Sets `files_digest` from the files read so far: the bundle digest's rule over just those
    /// files, so it changes only when one of them changes.
    func sealFilesDigest() {
        filesDigest.value = BundleDigest.compute(entries.filter { reads.paths.contains($0.path) })
    }

    /// Mustache splits names on `.`, so `app.json` is reached as `files.app_json`.
    static func variableName(_ path: String) -> String {
        String(path.map { $0 == "." || $0 == "/" || $0 == "-" ? "_" : $0 })
    }
}
