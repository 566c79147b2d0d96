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

    static func read(_ repository: GitRepository, commit: ObjectID, target: MappingTarget) async throws(GitError) -> SourceSnapshot {
        let info = try await repository.commit(commit)
        let entries = try await repository.files(of: commit, under: target.mapping.source)
        let layout = BundleLayout(bundleBy: target.mapping.bundleBy)
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
}
