import Foundation
import ConfigParsing

/// `git2kv validate`: the sync's file checks on a working tree, for the config repo's own CI.
public struct WorkingTreeValidator: Sendable {
    public struct Scope: Sendable {
        public var source: String
        public var filter: PathFilter
        public var validator: FileValidator
        public var layout: BundleLayout
    }

    public let root: String
    public let scopes: [Scope]

    /// With a configuration: every mapping's source with its rules. Without: the whole tree, default rules.
    public init(root: String, config: DaemonConfig?) {
        self.root = root
        guard let config else {
            scopes = [Scope(source: "", filter: PathFilter(include: [], exclude: []), validator: FileValidator(rules: ValidationConfig()), layout: BundleLayout(bundleBy: .directory))]
            return
        }
        var scopes: [Scope] = []
        for mapping in config.repos.flatMap(\.mappings) where !scopes.contains(where: { $0.source == mapping.source }) {
            scopes.append(Scope(
                source: mapping.source, filter: PathFilter(include: mapping.include, exclude: mapping.exclude),
                validator: FileValidator(rules: mapping.validation), layout: BundleLayout(bundleBy: mapping.bundleBy)))
        }
        self.scopes = scopes
    }

    /// Every problem, sorted by file.
    public func problems() -> [FileProblem] {
        var found: Set<FileProblem> = []
        for scope in scopes {
            let base = scope.source.isEmpty ? root : root + "/" + scope.source
            var bundleSizes: [String: Int] = [:]
            for relative in Self.files(under: base) {
                guard scope.filter.admits(relative) else { continue }
                let repoPath = scope.source.isEmpty ? relative : scope.source + "/" + relative
                let fullPath = base + "/" + relative
                if let reason = KeyPathRules.problem(in: relative) {
                    found.insert(FileProblem(file: repoPath, reason: "the path \(reason)"))
                } else if let target = try? FileManager.default.destinationOfSymbolicLink(atPath: fullPath) {
                    if let reason = SymlinkCheck.escape(path: relative, target: Array(target.utf8)) {
                        found.insert(FileProblem(file: repoPath, reason: reason))
                    }
                } else if let content = FileManager.default.contents(atPath: fullPath) {
                    bundleSizes[scope.layout.place(relative).bundle, default: 0] += content.count
                    if let problem = scope.validator.problem(path: repoPath, content: Array(content)) { found.insert(problem) }
                } else {
                    found.insert(FileProblem(file: repoPath, reason: "cannot read the file"))
                }
            }
            for (bundle, size) in bundleSizes where size > scope.validator.rules.maxBundleSize {
                found.insert(FileProblem(
                    file: scope.layout.directory(of: bundle, source: scope.source),
                    reason: "the bundle's files add up to \(size) bytes, over the limit of \(scope.validator.rules.maxBundleSize)"))
            }
        }
        return found.sorted { ($0.file, $0.line ?? 0) < ($1.file, $1.line ?? 0) }
    }

    /// Files and symlinks under `directory`, relative to it, skipping `.git`; symlinks are not followed.
    static func files(under directory: String) -> [String] {
        var result: [String] = []
        var pending = [""]
        while let relative = pending.popLast() {
            let path = relative.isEmpty ? directory : directory + "/" + relative
            guard let names = try? FileManager.default.contentsOfDirectory(atPath: path) else { continue }
            for name in names where !(relative.isEmpty && name == ".git") {
                let child = relative.isEmpty ? name : relative + "/" + name
                var info = stat()
                guard lstat(directory + "/" + child, &info) == 0 else { continue }
                if info.st_mode & S_IFMT == S_IFDIR {
                    pending.append(child)
                } else {
                    result.append(child)
                }
            }
        }
        return result.sorted()
    }
}
