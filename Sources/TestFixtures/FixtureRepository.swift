import Foundation

/// A bare repository built deterministically with `git fast-import`: fixed authors and times,
/// so the same changes give the same commit ids on every machine.
public final class FixtureRepository: @unchecked Sendable {
    public let path: String
    public var url: String { "file://\(path)" }
    private var clock: Int64 = 1_700_000_000

    /// Creates an empty bare repository at `path`.
    public init(at path: String) throws {
        self.path = path
        try GitCLI.run(["init", "--quiet", "--bare", "--initial-branch=main", path])
    }

    /// Commits `changes` on `branch` (created if needed) and returns the new commit id.
    @discardableResult
    public func commit(
        _ message: String, on branch: String = "main", changes: [FixtureChange],
        author: String = "Fixture Author", email: String = "fixture@example.com"
    ) throws -> String {
        clock += 60
        var stream = FastImportStream()
        stream.line("commit refs/heads/\(branch)")
        stream.line("mark :1")
        stream.line("author \(author) <\(email)> \(clock) +0000")
        stream.line("committer \(author) <\(email)> \(clock) +0000")
        stream.data(Array(message.utf8))
        if let parent = try? head(of: branch) { stream.line("from \(parent)") }
        for change in changes { stream.append(change) }
        stream.line("")
        let marks = "\(path)/fixture-marks"
        try GitCLI.run(["fast-import", "--quiet", "--export-marks=\(marks)"], in: path, input: stream.bytes)
        let exported = try String(contentsOfFile: marks, encoding: .utf8)
        try? FileManager.default.removeItem(atPath: marks)
        guard let id = exported.split(separator: " ").last?.trimmingCharacters(in: .whitespacesAndNewlines) else {
            throw GitCLI.Failure(arguments: ["fast-import"], status: 0, standardError: "no mark exported")
        }
        return id
    }

    /// An empty commit (no tree change) on `branch`.
    @discardableResult
    public func emptyCommit(_ message: String, on branch: String = "main") throws -> String {
        try commit(message, on: branch, changes: [])
    }

    public func head(of branch: String = "main") throws -> String {
        try GitCLI.text(["rev-parse", "--verify", "--quiet", "refs/heads/\(branch)^{commit}"], in: path)
    }

    /// Moves `branch` to `commit` as a force-push would.
    public func forceBranch(_ branch: String, to commit: String) throws {
        try GitCLI.run(["update-ref", "refs/heads/\(branch)", commit], in: path)
    }

    public func deleteBranch(_ branch: String) throws {
        try GitCLI.run(["update-ref", "-d", "refs/heads/\(branch)"], in: path)
    }

    /// A lightweight tag, or an annotated one when `message` is given.
    public func tag(_ name: String, at commit: String, message: String? = nil) throws {
        if let message {
            clock += 1
            var stream = FastImportStream()
            stream.line("tag \(name)")
            stream.line("from \(commit)")
            stream.line("tagger Fixture Author <fixture@example.com> \(clock) +0000")
            stream.data(Array(message.utf8))
            try GitCLI.run(["fast-import", "--quiet"], in: path, input: stream.bytes)
        } else {
            try GitCLI.run(["update-ref", "refs/tags/\(name)", commit], in: path)
        }
    }
}
