import BundleFormat
import GitKit
import ConfigParsing

/// Builds one bundle from its files at a commit, or says why it cannot be built.
enum BuildOutcome: Sendable {
    case built(ConfigBundle)
    case rejected([FileProblem])
    /// No files: the bundle's key should not exist.
    case empty
}

struct BundleBuilder: Sendable {
    let target: MappingTarget
    let validator: FileValidator

    init(target: MappingTarget) {
        self.target = target
        self.validator = FileValidator(rules: target.mapping.validation)
    }

    func build(_ name: String, from snapshot: SourceSnapshot, repository: GitRepository) async throws(GitError) -> BuildOutcome {
        var problems = snapshot.problems[name] ?? []
        let entries = snapshot.bundles[name] ?? []
        guard !entries.isEmpty || !problems.isEmpty else { return .empty }
        if let reason = KeyPathRules.problem(in: name) ?? (name == ".git2kv" ? "is reserved for git2kv's own keys" : nil) {
            return .rejected([FileProblem(file: entries.first?.repoPath ?? name, reason: "directory name \(name.debugDescription) \(reason)")])
        }
        let readable = entries.filter { $0.entry.kind != .submodule }
        for entry in entries where entry.entry.kind == .submodule {
            problems.append(FileProblem(file: entry.repoPath, reason: "a submodule cannot be synced (git2kv does not follow submodules)"))
        }
        let blobs = try await repository.readBlobs(readable.map(\.entry.id), sizeLimit: validator.rules.maxFileSize)
        problems += Self.collisions(readable)
        var files: [BundleFile] = []
        var total = 0
        for (entry, blob) in zip(readable, blobs) {
            if let reason = KeyPathRules.problem(in: entry.pathInBundle) {
                problems.append(FileProblem(file: entry.repoPath, reason: "the path \(reason)"))
                continue
            }
            let content: [UInt8]
            switch blob {
            case .content(let bytes):
                content = bytes
            case .oversized(let size):
                problems.append(validator.oversized(path: entry.repoPath, size: size))
                continue
            }
            let mode: BundleFileMode
            switch entry.entry.kind {
            case .symlink:
                if let reason = SymlinkCheck.escape(path: entry.pathInSource, target: content) {
                    problems.append(FileProblem(file: entry.repoPath, reason: reason))
                    continue
                }
                mode = .symlink
            case .file(let executable):
                if let problem = validator.problem(path: entry.repoPath, content: content) {
                    problems.append(problem)
                    continue
                }
                mode = executable ? .executable : .regular
            case .submodule, .directory:
                continue
            }
            total += content.count
            files.append(BundleFile(path: entry.pathInBundle, mode: mode, content: content))
        }
        if total > validator.rules.maxBundleSize {
            problems.append(FileProblem(
                file: BundleLayout(bundleBy: target.mapping.bundleBy).directory(of: name, source: target.mapping.source),
                reason: "the bundle's files add up to \(total) bytes, over the limit of \(validator.rules.maxBundleSize)"))
        }
        guard problems.isEmpty else { return .rejected(problems) }
        let commit = snapshot.commit
        let bundle = ConfigBundle(
            source: BundleSource(
                repo: target.repo, branch: target.reference,
                path: BundleLayout(bundleBy: target.mapping.bundleBy).directory(of: name, source: target.mapping.source)),
            commit: BundleCommit(
                id: commit.id.hex, author: commit.author.name, email: commit.author.email, time: commit.author.time,
                summary: commit.summary),
            files: files)
        if let refusal = BundleEncoder.refusal(of: bundle) {
            let directory = BundleLayout(bundleBy: target.mapping.bundleBy).directory(of: name, source: target.mapping.source)
            return .rejected([FileProblem(file: directory, reason: "the bundle cannot be written: \(refusal)")])
        }
        return .built(bundle)
    }
}

extension BundleBuilder {
    /// Files that would take the same path in the bundle: names equal up to Unicode
    /// normalization (NFC and NFD twins), or a root file beside a directory named like the root
    /// bundle. Each blocks only its own bundle.
    static func collisions(_ entries: [SourceEntry]) -> [FileProblem] {
        var firstByPath: [String: SourceEntry] = [:]
        var problems: [FileProblem] = []
        for entry in entries {
            guard let first = firstByPath[entry.pathInBundle] else {
                firstByPath[entry.pathInBundle] = entry
                continue
            }
            let why = Array(first.pathInBundle.utf8) == Array(entry.pathInBundle.utf8)
                ? "both land at \(entry.pathInBundle) in the bundle"
                : "their names differ only in Unicode normalization (NFC/NFD)"
            problems.append(FileProblem(file: entry.repoPath, reason: "collides with \(first.repoPath): \(why); rename one"))
        }
        return problems
    }
}

/// A symlink may point anywhere inside the mapping's source, never out of it.
enum SymlinkCheck {
    static func escape(path: String, target: [UInt8]) -> String? {
        guard let target = String(validating: target, as: UTF8.self), !target.isEmpty, !target.contains("\0") else {
            return "the symlink's target is not a UTF-8 path"
        }
        if target.hasPrefix("/") { return "the symlink points to the absolute path \(target), outside the mapping's source" }
        var depth = path.split(separator: "/").count - 1
        for component in target.split(separator: "/") {
            switch component {
            case ".": continue
            case "..":
                depth -= 1
                if depth < 0 { return "the symlink points to \(target), outside the mapping's source" }
            default: depth += 1
            }
        }
        return nil
    }
}
