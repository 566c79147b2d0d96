import Foundation
@testable import GitKit
import Testing
import TestFixtures

@Suite("Mirror and fetch")
struct MirrorFetchTests {
    @Test("a file:// remote is mirrored: branches and tags, annotated tags peeled, progress reported")
    func mirrorsBranchesAndTags() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let origin = try FixtureRepository(at: directory.appending("origin.git"))
        let first = try origin.commit("first", changes: [.text("apps/web/a.json", "{}\n")])
        let second = try origin.commit("second", changes: [.text("apps/web/b.json", "[]\n")])
        try origin.commit("feature", on: "feature", changes: [.text("apps/web/c.json", "1\n")])
        try origin.tag("v1", at: first)
        try origin.tag("v2", at: second, message: "release 2")

        let mirror = try GitRepository.openOrCreateMirror(at: directory.appending("mirror.git"), remoteURL: origin.url)
        let progress = ProgressLog()
        let updates = try await mirror.fetch { progress.record($0) }

        #expect(Set(updates.map(\.name)) == ["refs/heads/main", "refs/heads/feature", "refs/tags/v1", "refs/tags/v2"])
        #expect(try await mirror.resolveBranch("main").hex == second)
        #expect(try await mirror.resolveTag("v1").hex == first)
        #expect(try await mirror.resolveTag("v2").hex == second, "annotated tag peels to its commit")
        #expect(try await mirror.resolveCommit("v2").hex == second)
        #expect(try await mirror.referenceNames(under: "refs/heads/") == ["feature", "main"])
        #expect(try await mirror.referenceNames(under: "refs/tags/") == ["v1", "v2"])
        #expect(progress.last?.totalObjects ?? 0 > 0)
        #expect(progress.last?.receivedObjects == progress.last?.totalObjects)
    }

    @Test("a second fetch reports only what moved, and prunes deleted branches")
    func incrementalFetch() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let origin = try FixtureRepository(at: directory.appending("origin.git"))
        let first = try origin.commit("first", changes: [.text("a.json", "{}\n")])
        try origin.commit("topic", on: "topic", changes: [.text("b.json", "{}\n")])
        let mirror = try GitRepository.openOrCreateMirror(at: directory.appending("mirror.git"), remoteURL: origin.url)
        try await mirror.fetch()

        #expect(try await mirror.fetch().isEmpty)

        let second = try origin.commit("second", changes: [.text("a.json", "{\"x\": 1}\n")])
        try origin.deleteBranch("topic")
        let updates = try await mirror.fetch()
        #expect(updates.contains(ReferenceUpdate(name: "refs/heads/main", oldID: ObjectID(hex: first), newID: ObjectID(hex: second))))
        #expect(try await mirror.referenceNames(under: "refs/heads/") == ["main"])
    }

    @Test("opening the mirror and fetching, as every poll does, keeps memory flat")
    func pollsDoNotGrowMemory() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let origin = try FixtureRepository(at: directory.appending("origin.git"))
        try origin.commit("first", changes: [.text("a.json", "{}\n")])
        // Entries in the mirror's config made libgit2 1.5's remote lookup leak per entry.
        let path = directory.appending("mirror.git")
        try await GitRepository.openOrCreateMirror(at: path, remoteURL: origin.url).fetch()
        for round in 0..<20 { try GitCLI.run(["config", "--file", path + "/config", "git2kv.test\(round)", "value"]) }
        for _ in 0..<50 { try await GitRepository.openOrCreateMirror(at: path, remoteURL: origin.url).fetch() }
        let warm = try #require(ResidentMemory.kilobytes())
        for _ in 0..<300 { try await GitRepository.openOrCreateMirror(at: path, remoteURL: origin.url).fetch() }
        let grown = try #require(ResidentMemory.kilobytes()) - warm
        // The leak was over 100 KB per poll here, 30 MB over these 300; what remains is noise.
        #expect(grown < 8_000, "300 polls grew the process by \(grown) KB")
    }

    @Test("repacking leaves one pack holding every branch, tag and annotated tag, and drops what nothing reaches")
    func repackConsolidates() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let origin = try FixtureRepository(at: directory.appending("origin.git"))
        let path = directory.appending("mirror.git")
        let mirror = try GitRepository.openOrCreateMirror(at: path, remoteURL: origin.url)
        var heads: [String] = []
        for round in 0..<6 {
            heads.append(try origin.commit("round \(round)", changes: [.text("apps/web/port", "\(round)")]))
            try await mirror.fetch()
        }
        try origin.tag("v1", at: heads[1], message: "release 1")
        try origin.commit("topic", on: "topic", changes: [.text("apps/web/topic", "t")])
        try await mirror.fetch()
        #expect(await mirror.packCount() >= 7, "libgit2 writes a pack per fetch")

        try await mirror.repack()
        #expect(await mirror.packCount() == 1)
        #expect(try await mirror.resolveBranch("main").hex == heads[5])
        #expect(try await mirror.resolveTag("v1").hex == heads[1], "the annotated tag object survived")
        #expect(try await mirror.referenceNames(under: "refs/heads/") == ["main", "topic"])
        let reopened = try GitRepository.openOrCreateMirror(at: path, remoteURL: origin.url)
        #expect(try await reopened.resolveBranch("main").hex == heads[5])
        #expect(try await reopened.resolveCommit(heads[0]).hex == heads[0], "history stays")
        // git itself finds the repository whole.
        try GitCLI.run(["fsck", "--no-dangling"], in: path)
        let next = try origin.commit("after repack", changes: [.text("apps/web/port", "9")])
        try await reopened.fetch()
        #expect(try await reopened.resolveBranch("main").hex == next)
    }

    @Test("reopening a mirror whose remote moved points it at the new URL")
    func remoteURLUpdated() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let one = try FixtureRepository(at: directory.appending("one.git"))
        try one.commit("one", changes: [.text("a", "1")])
        let two = try FixtureRepository(at: directory.appending("two.git"))
        let head = try two.commit("two", changes: [.text("a", "2")])
        let path = directory.appending("mirror.git")
        _ = try GitRepository.openOrCreateMirror(at: path, remoteURL: one.url)
        let mirror = try GitRepository.openOrCreateMirror(at: path, remoteURL: two.url)
        #expect(try await mirror.remoteURL() == two.url)
        try await mirror.fetch()
        #expect(try await mirror.resolveBranch("main").hex == head)
    }

    @Test("a fetch from a closed port fails as unreachable and names the URL")
    func unreachableRemote() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let url = "http://127.0.0.1:\(ClosedPort.find())/config.git"
        let mirror = try GitRepository.openOrCreateMirror(at: directory.appending("mirror.git"), remoteURL: url)
        let error = try await #require(throws: GitError.self) { try await mirror.fetch() }
        #expect(error.kind == .remoteUnreachable)
        #expect(error.description.contains(url))
    }

    @Test("a file:// remote that does not exist fails with a clear error")
    func missingLocalRemote() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let mirror = try GitRepository.openOrCreateMirror(
            at: directory.appending("mirror.git"), remoteURL: "file://\(directory.path)/nope.git")
        let error = try await #require(throws: GitError.self) { try await mirror.fetch() }
        #expect(error.description.contains("nope.git"))
    }

    @Test("opening a directory that is not a repository is an invalid-repository error")
    func openNonRepository() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let error = #expect(throws: GitError.self) { try GitRepository(openingAt: directory.path) }
        #expect(error?.kind == .invalidRepository)
        #expect(error?.description.contains(directory.path) == true)
    }
}

final class ProgressLog: @unchecked Sendable {
    private let lock = NSLock()
    private var entries: [TransferProgress] = []

    func record(_ progress: TransferProgress) {
        lock.withLock { entries.append(progress) }
    }

    var last: TransferProgress? { lock.withLock { entries.last } }
}

@Suite("Threading")
struct ThreadingTests {
    @Test("libgit2 work runs on the repository's own queue, not on Swift's cooperative pool")
    func ownQueue() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let origin = try FixtureRepository(at: directory.appending("origin.git"))
        try origin.commit("one", changes: [.text("a.json", "{}\n")])
        let path = directory.appending("mirror.git")
        let mirror = try GitRepository.openOrCreateMirror(at: path, remoteURL: origin.url)
        let labels = LabelLog()
        try await mirror.fetch { _ in labels.record(GitQueueExecutor.currentLabel ?? "not a repository queue") }
        #expect(!labels.all.isEmpty)
        #expect(labels.all.allSatisfy { $0 == "git2kv.git.\(path)" }, "\(Set(labels.all))")
    }
}

final class LabelLog: @unchecked Sendable {
    private let lock = NSLock()
    private var labels: [String] = []

    func record(_ label: String) { lock.withLock { labels.append(label) } }

    var all: [String] { lock.withLock { labels } }
}
