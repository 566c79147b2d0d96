import GitKit

/// One file of a mapping's source as git has it (content not read yet).
struct SourceEntry: Sendable {
    /// Relative to the bundle's directory.
    let pathInBundle: String
    /// Relative to the mapping's source.
    let pathInSource: String
    /// Relative to the repository root, for messages.
    let repoPath: String
    let entry: TreeEntry
}

/// The files of a mapping's source at one commit, grouped by bundle, after include/exclude.
struct SourceSnapshot: Sendable {
    let commit: CommitInfo
    var bundles: [String: [SourceEntry]] = [:]
    /// Problems found from the tree alone (paths that cannot be keys), by bundle.
    var problems: [String: [FileProblem]] = [:]

    /// With `bundles`, only those bundles' directories are read (bundle_by: directory): a commit
    /// that changes one file of a large repository reads one subtree, not the whole source.
    static func read(
        _ repository: GitRepository, commit: ObjectID, target: MappingTarget, bundles: Set<String>? = nil
    ) async throws(GitError) -> SourceSnapshot {
        let info = try await repository.commit(commit)
        let layout = BundleLayout(bundleBy: target.mapping.bundleBy)
        let entries: [TreeEntry]
        if let bundles, layout.bundleBy == .directory {
            entries = try await Self.entries(of: bundles, at: commit, source: target.mapping.source, repository: repository)
        } else {
            entries = try await repository.files(of: commit, under: target.mapping.source)
        }
        let filter = PathFilter(include: target.mapping.include, exclude: target.mapping.exclude)
        let source = target.mapping.source
        var snapshot = SourceSnapshot(commit: info)
        for entry in entries {
            let repoPathBytes = source.isEmpty ? entry.path : GitPath(source).appending(entry.path)
            guard let path = entry.path.string else {
                let placed = layout.place(entry.path.escaped)
                snapshot.problems[placed.bundle, default: []].append(
                    FileProblem(file: repoPathBytes.escaped, reason: "the file name is not UTF-8 and cannot be a key or a bundle path"))
                continue
            }
            guard filter.admits(path) else { continue }
            let placed = layout.place(path)
            snapshot.bundles[placed.bundle, default: []].append(
                SourceEntry(pathInBundle: placed.pathInBundle, pathInSource: path, repoPath: repoPathBytes.escaped, entry: entry))
        }
        return snapshot
    }

    var bundleNames: Set<String> { Set(bundles.keys).union(problems.keys) }

    /// The files of the named bundles, paths relative to the source: a directory's whole
    /// subtree, or (for the root bundle) the files directly in the source.
    private static func entries(
        of bundles: Set<String>, at commit: ObjectID, source: String, repository: GitRepository
    ) async throws(GitError) -> [TreeEntry] {
        var entries: [TreeEntry] = []
        for bundle in bundles.sorted() {
            if bundle == BundleLayout.rootBundle {
                guard let tree = try await repository.treeID(of: commit, at: source) else { continue }
                entries += try await repository.listTree(tree).filter { $0.kind != .directory }
                continue
            }
            let directory = source.isEmpty ? bundle : source + "/" + bundle
            // Absent, or a file now (which belongs to the root bundle): nothing of this bundle.
            guard let tree = try await repository.treeID(of: commit, at: directory, ifDirectory: true) else { continue }
            let prefix = GitPath(bundle)
            entries += try await repository.walkTree(tree).map { TreeEntry(path: prefix.appending($0.path), kind: $0.kind, mode: $0.mode, id: $0.id) }
        }
        return entries
    }
}
