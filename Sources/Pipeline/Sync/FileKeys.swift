import Foundation
import StructuredText
import GitKit
import ConfigParsing

/// The `files` layout (git2consul's): which keys one file produces under the mapping's prefix,
/// and their values. Without expand_keys a file is one key holding its content with
/// surrounding whitespace trimmed (as git2consul stores it); with expand_keys JSON, YAML and
/// .properties files become one key per leaf below the file's key.
struct FileKeys: Sendable {
    let target: MappingTarget
    let validator: FileValidator

    init(target: MappingTarget) {
        self.target = target
        self.validator = FileValidator(rules: target.mapping.validation)
    }

    enum Outcome {
        case keys([String: [UInt8]])
        case rejected(FileProblem)
    }

    /// The key of a file (relative to the source), before expansion.
    func fileKey(_ path: String) -> String {
        var name = path
        if target.mapping.expandKeys, target.mapping.ignoreFileExtension, StructuredFormat.of(path: path) != nil,
            let dot = name.lastIndex(of: "."), !name[name.index(after: dot)...].contains("/")
        {
            name = String(name[..<dot])
        }
        return target.prefix + "/" + name
    }

    /// Every key a file read under the size limit produces.
    func keys(path: String, repoPath: String, kind: TreeEntryKind, blob: BlobRead, maxValueSize: Int) -> Outcome {
        switch blob {
        case .content(let content): keys(path: path, repoPath: repoPath, kind: kind, content: content, maxValueSize: maxValueSize)
        case .oversized(let size): .rejected(validator.oversized(path: repoPath, size: size))
        }
    }

    /// Every key a file produces. Keys not under the file's own key never come out of here.
    func keys(path: String, repoPath: String, kind: TreeEntryKind, content: [UInt8], maxValueSize: Int) -> Outcome {
        if let reason = KeyPathRules.problem(in: path) { return .rejected(FileProblem(file: repoPath, reason: "the path \(reason)")) }
        if path == MappingTarget.reservedDirectory || path.hasPrefix(MappingTarget.reservedDirectory + "/") {
            return .rejected(FileProblem(file: repoPath, reason: "\(MappingTarget.reservedDirectory)/ is reserved for git2kv's own keys (state, freeze) and is never synced"))
        }
        switch kind {
        case .submodule: return .rejected(FileProblem(file: repoPath, reason: "a submodule cannot be synced (git2kv does not follow submodules)"))
        case .symlink:
            if let reason = SymlinkCheck.escape(path: path, target: content) { return .rejected(FileProblem(file: repoPath, reason: reason)) }
        case .file, .directory: break
        }
        if let problem = validator.problem(path: repoPath, content: content) { return .rejected(problem) }
        let base = fileKey(path)
        var produced: [String: [UInt8]] = [:]
        if target.mapping.expandKeys, kind != .symlink, let format = StructuredFormat.of(path: path) {
            let leaves: [(path: String, value: [UInt8])]
            do {
                leaves = try StructuredLeaves.leaves(of: content, format: format)
            } catch {
                return .rejected(FileProblem(file: repoPath, reason: "cannot expand into keys: \(error)"))
            }
            for leaf in leaves { produced[leaf.path.isEmpty ? base : base + "/" + leaf.path] = leaf.value }
        } else {
            produced[base] = Self.trimmed(content)
        }
        for (key, value) in produced {
            if key.hasPrefix(target.internalPrefix) || key == target.prefix + "/" + MappingTarget.reservedDirectory {
                return .rejected(FileProblem(file: repoPath, reason: "it would produce the key \(key), under \(MappingTarget.reservedDirectory)/, which is reserved for git2kv's own keys (state, freeze)"))
            }
            if let reason = KeyPathRules.problem(in: key) {
                return .rejected(FileProblem(file: repoPath, reason: "it would produce the key \(key.debugDescription), which \(reason)"))
            }
            if value.count > maxValueSize {
                return .rejected(FileProblem(file: repoPath, reason: "the value of \(key) is \(value.count) bytes, over the KV value limit of \(maxValueSize)"))
            }
        }
        return .keys(produced)
    }

    /// Text is trimmed of surrounding whitespace like git2consul does; other bytes are kept as they are.
    static func trimmed(_ content: [UInt8]) -> [UInt8] {
        guard TextContent.text(of: content) != nil else { return content }
        let isSpace: (UInt8) -> Bool = { $0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }
        guard let first = content.firstIndex(where: { !isSpace($0) }), let last = content.lastIndex(where: { !isSpace($0) }) else { return [] }
        return Array(content[first...last])
    }
}
