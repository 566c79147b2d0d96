import Foundation
import GitKit
import Testing
import TestFixtures

@Suite("Diffs, history and force-pushes")
struct DiffAndHistoryTests {
    @Test(
        "diff under a subpath reports added, modified, deleted, renamed, type and mode changes",
        arguments: [RenameDetection.exact, .similar])
    func diffKinds(renames: RenameDetection) async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let origin = try FixtureRepository(at: directory.appending("origin.git"))
        let before = try origin.commit("before", changes: [
            .text("apps/web/keep.json", "{\"a\": 1}\n"),
            .text("apps/web/edit.json", "{\"b\": 1}\n"),
            .text("apps/web/gone.json", "{\"c\": 1}\n"),
            .text("apps/web/move-me.json", "{\"a long enough body\": \"to be detected as the same file when moved\"}\n"),
            .text("apps/web/becomes-link.json", "{}\n"),
            .text("apps/web/run.sh", "#!/bin/sh\n"),
            .text("other/outside.json", "{}\n"),
        ])
        let after = try origin.commit("after", changes: [
            .text("apps/web/edit.json", "{\"b\": 2}\n"),
            .delete("apps/web/gone.json"),
            .rename(from: "apps/web/move-me.json", to: "apps/api/moved.json"),
            .symlink("apps/web/becomes-link.json", target: "keep.json"),
            .text("apps/web/run.sh", "#!/bin/sh\n", executable: true),
            .text("apps/web/new.json", "[\"entirely\", \"new\", \"content\", 12345]\n"),
            .text("other/outside.json", "{\"changed\": true}\n"),
        ])
        let mirror = try GitRepository.openOrCreateMirror(at: directory.appending("m.git"), remoteURL: origin.url)
        try await mirror.fetch()

        let deltas = try await mirror.diff(from: ObjectID(hex: before), to: try #require(ObjectID(hex: after)), under: "apps", renames: renames)
        func status(_ path: String) -> DiffStatus? {
            deltas.first { $0.newPath?.string == path || $0.oldPath?.string == path }?.status
        }
        #expect(deltas.count == 6, "nothing outside apps/ and nothing unchanged: \(deltas.map { "\($0.status) \($0.oldPath?.escaped ?? "-") \($0.newPath?.escaped ?? "-")" })")
        #expect(status("web/edit.json") == .modified)
        #expect(status("web/gone.json") == .deleted)
        #expect(status("web/new.json") == .added)
        #expect(status("web/becomes-link.json") == .typeChanged)
        #expect(status("api/moved.json") == .renamed(similarity: 100))
        let rename = try #require(deltas.first { $0.newPath?.string == "api/moved.json" })
        #expect(rename.oldPath?.string == "web/move-me.json")
        #expect(rename.paths.map(\.string) == ["web/move-me.json", "api/moved.json"])
        let modeChange = try #require(deltas.first { $0.newPath?.string == "web/run.sh" })
        #expect(modeChange.isModeChangeOnly)
        #expect(modeChange.oldMode == 0o100644 && modeChange.newMode == 0o100755)
    }

    @Test("renames: none reports delete and add, exact pairs identical content, similar pairs edited content")
    func renameDetection() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let origin = try FixtureRepository(at: directory.appending("origin.git"))
        let body = (0..<40).map { "line \($0) of a configuration file that is long enough to compare\n" }.joined()
        let before = try #require(ObjectID(hex: try origin.commit("before", changes: [
            .text("a/same.conf", body), .text("a/edited.conf", "edited\n" + body),
        ])))
        let after = try #require(ObjectID(hex: try origin.commit("after", changes: [
            .rename(from: "a/same.conf", to: "b/same.conf"),
            .delete("a/edited.conf"), .text("b/edited.conf", "edited!\n" + body),
        ])))
        let mirror = try GitRepository.openOrCreateMirror(at: directory.appending("m.git"), remoteURL: origin.url)
        try await mirror.fetch()

        let none = try await mirror.diff(from: before, to: after, renames: .none)
        #expect(none.map(\.status).sorted { "\($0)" < "\($1)" } == [.added, .added, .deleted, .deleted])
        let exact = try await mirror.diff(from: before, to: after, renames: .exact)
        #expect(exact.filter { $0.status == .renamed(similarity: 100) }.compactMap(\.newPath?.string) == ["b/same.conf"])
        #expect(exact.count == 3)
        let similar = try await mirror.diff(from: before, to: after, renames: .similar)
        #expect(similar.count == 2)
        let edited = try #require(similar.first { $0.newPath?.string == "b/edited.conf" })
        #expect(edited.oldPath?.string == "a/edited.conf")
        if case .renamed(let score) = edited.status { #expect(score > 50 && score < 100) } else { Issue.record("not a rename: \(edited.status)") }
    }

    @Test("diff from nothing adds every file; a subtree that disappears deletes every file")
    func diffFromAndToEmpty() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let origin = try FixtureRepository(at: directory.appending("origin.git"))
        let one = try origin.commit("one", changes: [.text("apps/a/x.json", "1"), .text("apps/b/y.json", "2")])
        let two = try origin.commit("two", changes: [.delete("apps/a/x.json"), .delete("apps/b/y.json"), .text("other", "3")])
        let mirror = try GitRepository.openOrCreateMirror(at: directory.appending("m.git"), remoteURL: origin.url)
        try await mirror.fetch()
        let oneID = try #require(ObjectID(hex: one))
        let added = try await mirror.diff(from: nil, to: oneID, under: "apps")
        #expect(added.map(\.status) == [.added, .added])
        #expect(added.compactMap(\.newPath?.string) == ["a/x.json", "b/y.json"])
        let removed = try await mirror.diff(from: oneID, to: try #require(ObjectID(hex: two)), under: "apps")
        #expect(removed.map(\.status) == [.deleted, .deleted])
        #expect(try await mirror.diff(from: oneID, to: oneID, under: "apps").isEmpty)
    }

    @Test("history lists the commits that touched given paths, newest first")
    func history() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let origin = try FixtureRepository(at: directory.appending("origin.git"))
        let c1 = try origin.commit("add web", changes: [.text("apps/web/a.json", "1"), .text("apps/api/b.json", "1")])
        let c2 = try origin.commit("touch api", changes: [.text("apps/api/b.json", "2")])
        let c3 = try origin.commit("touch web", changes: [.text("apps/web/a.json", "2")])
        try origin.emptyCommit("empty")
        let c5 = try origin.commit("remove web", changes: [.delete("apps/web/a.json")])
        let mirror = try GitRepository.openOrCreateMirror(at: directory.appending("m.git"), remoteURL: origin.url)
        try await mirror.fetch()
        let head = try await mirror.resolveBranch("main")

        #expect(try await mirror.commits(touching: ["apps/web"], from: head).map(\.id.hex) == [c5, c3, c1])
        #expect(try await mirror.commits(touching: ["apps/api/"], from: head).map(\.id.hex) == [c2, c1])
        #expect(try await mirror.commits(touching: ["apps/web", "apps/api"], from: head, limit: 2).map(\.id.hex) == [c5, c3])
        #expect(try await mirror.commits(touching: ["nowhere"], from: head).isEmpty)
    }

    @Test("a force-pushed branch is detected, so callers fall back to a full comparison")
    func forcePush() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let origin = try FixtureRepository(at: directory.appending("origin.git"))
        let base = try origin.commit("base", changes: [.text("a", "1")])
        let synced = try origin.commit("synced", changes: [.text("a", "2")])
        let mirror = try GitRepository.openOrCreateMirror(at: directory.appending("m.git"), remoteURL: origin.url)
        try await mirror.fetch()
        let syncedID = try #require(ObjectID(hex: synced))
        #expect(try await mirror.relation(of: syncedID, to: syncedID) == .same)

        let next = try origin.commit("next", changes: [.text("a", "3")])
        try await mirror.fetch()
        #expect(try await mirror.relation(of: syncedID, to: try #require(ObjectID(hex: next))) == .fastForward)

        try origin.forceBranch("main", to: base)
        let rewritten = try origin.commit("rewritten", changes: [.text("a", "4")])
        try await mirror.fetch()
        let head = try await mirror.resolveBranch("main")
        #expect(head.hex == rewritten)
        #expect(try await mirror.relation(of: syncedID, to: head) == .diverged)

        let foreign = try #require(ObjectID(hex: String(repeating: "cd", count: 20)))
        #expect(try await mirror.relation(of: foreign, to: head) == .unknownCommit)
    }
}
