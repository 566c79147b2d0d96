import Foundation
import GitKit
import TestFixtures
import Testing

/// Committing a working tree through libgit2 (what `git2kv demo` does to its local repository),
/// checked with the git CLI.
@Suite("Working tree commits")
struct WorkingTreeCommitTests {
    @Test("a new repository commits added, changed and deleted files on main, each commit on top of the last")
    func commitsWorkingTree() async throws {
        let directory = try TemporaryDirectory(prefix: "git2kv-worktree")
        defer { directory.remove() }
        let path = directory.appending("config")
        let repository = try GitRepository.createWorkingRepository(at: path)
        try FileManager.default.createDirectory(atPath: path + "/apps/web", withIntermediateDirectories: true)
        try "port=80\n".write(toFile: path + "/apps/web/app.conf", atomically: true, encoding: .utf8)
        try "gone soon\n".write(toFile: path + "/apps/old.txt", atomically: true, encoding: .utf8)
        let first = try await repository.commitWorkingTree(message: "initial", author: "Demo", email: "demo@example.com")
        #expect(try GitCLI.text(["rev-parse", "refs/heads/main"], in: path) == first.hex)
        #expect(try GitCLI.text(["ls-tree", "-r", "--name-only", "HEAD"], in: path) == "apps/old.txt\napps/web/app.conf")

        try "port=81\n".write(toFile: path + "/apps/web/app.conf", atomically: true, encoding: .utf8)
        try FileManager.default.removeItem(atPath: path + "/apps/old.txt")
        let second = try await repository.commitWorkingTree(message: "port 81", author: "Demo", email: "demo@example.com")
        #expect(try GitCLI.text(["rev-parse", "HEAD~1"], in: path) == first.hex)
        #expect(try GitCLI.text(["ls-tree", "-r", "--name-only", second.hex], in: path) == "apps/web/app.conf")
        #expect(try GitCLI.text(["show", "HEAD:apps/web/app.conf"], in: path) == "port=81")
        #expect(try GitCLI.text(["log", "-1", "--format=%an <%ae> %s"], in: path) == "Demo <demo@example.com> port 81")
        #expect(try GitCLI.text(["status", "--porcelain"], in: path).isEmpty, "the index matches the working tree")
    }
}
