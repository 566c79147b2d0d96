import Foundation
import GitKit
import Testing
import TestFixtures

@Suite("Trees and blobs")
struct TreeAndBlobTests {
    @Test("walking a subtree reports files, executables, symlinks and submodules without following them")
    func walkKinds() async throws {
        let fixture = try await MirroredFixture.make(changes: StandardFixtures.mixed())
        defer { fixture.remove() }
        let entries = try await fixture.mirror.files(of: fixture.head, under: "apps/api")
        let byPath = Dictionary(uniqueKeysWithValues: entries.map { ($0.path.string!, $0) })

        #expect(Set(byPath.keys) == ["current.json", "empty.txt", "escape.json", "healthcheck.sh", "logo.png", "settings.yaml"])
        #expect(byPath["settings.yaml"]?.kind == .file(executable: false))
        #expect(byPath["healthcheck.sh"]?.kind == .file(executable: true))
        #expect(byPath["current.json"]?.kind == .symlink)
        #expect(try await fixture.mirror.readBlob(byPath["escape.json"]!.id) == Array("../../../etc/passwd".utf8))
        #expect(try await fixture.mirror.readBlob(byPath["empty.txt"]!.id) == [])
        #expect(try await fixture.mirror.readBlob(byPath["logo.png"]!.id) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0xFF, 0x10, 0x00])
        #expect(try await fixture.mirror.blobSize(byPath["logo.png"]!.id) == 12)

        let vendor = try await fixture.mirror.files(of: fixture.head, under: "apps/vendor")
        #expect(vendor.map(\.kind) == [.submodule])
        #expect(vendor.first?.id.hex == "0123456789abcdef0123456789abcdef01234567")
    }

    @Test("nested paths are relative to the walked subtree; listing is one level")
    func nestedPaths() async throws {
        let fixture = try await MirroredFixture.make(changes: StandardFixtures.mixed())
        defer { fixture.remove() }
        let web = try await fixture.mirror.files(of: fixture.head, under: "apps/web/")
        #expect(web.map(\.path.string) == ["config.json", "nginx/deep/more/nested.yaml", "nginx/site.conf"])

        let appsTree = try #require(try await fixture.mirror.treeID(of: fixture.head, at: "apps"))
        let listing = try await fixture.mirror.listTree(appsTree)
        #expect(listing.map(\.path.string) == ["api", "broken", "root.txt", "vendor", "web"])
        #expect(listing.filter { $0.kind == .directory }.count == 4)
    }

    @Test("a missing subtree is empty; a file where a directory is expected is an error")
    func missingAndWrongType() async throws {
        let fixture = try await MirroredFixture.make(changes: StandardFixtures.mixed())
        defer { fixture.remove() }
        #expect(try await fixture.mirror.files(of: fixture.head, under: "nothing/here").isEmpty)
        #expect(try await fixture.mirror.treeID(of: fixture.head, at: "nothing") == nil)
        let error = try await #require(throws: GitError.self) {
            try await fixture.mirror.files(of: fixture.head, under: "apps/root.txt")
        }
        #expect(error.kind == .wrongObjectType)
        #expect(error.description.contains("apps/root.txt is not a directory"))
    }

    @Test("a non-UTF-8 file name is carried as bytes and refused with a clear error when a string is needed")
    func nonUTF8Path() async throws {
        let name: [UInt8] = Array("apps/web/caf".utf8) + [0xE9] + Array(".json".utf8)
        let fixture = try await MirroredFixture.make(changes: [.writeBytesPath(name, Array("{}".utf8)), .text("apps/web/ok.json", "{}")])
        defer { fixture.remove() }
        let entries = try await fixture.mirror.files(of: fixture.head, under: "apps/web")
        let bad = try #require(entries.first { $0.path.string == nil })
        #expect(bad.path.bytes == Array("caf".utf8) + [0xE9] + Array(".json".utf8))
        #expect(bad.path.escaped == "caf\\xE9.json")
        let error = #expect(throws: GitError.self) { try bad.path.requireUTF8() }
        #expect(error?.kind == .invalidPath)
        #expect(error?.description.contains("caf\\xE9.json") == true)
    }

    @Test("a missing branch, tag or commit is a not-found error naming it")
    func missingReferences() async throws {
        let fixture = try await MirroredFixture.make(changes: [.text("a", "1")])
        defer { fixture.remove() }
        let branch = try await #require(throws: GitError.self) { try await fixture.mirror.resolveBranch("nope") }
        #expect(branch.kind == .notFound)
        #expect(branch.description.contains("refs/heads/nope"))
        let name = try await #require(throws: GitError.self) { try await fixture.mirror.resolveCommit("release-9") }
        #expect(name.kind == .notFound)
        #expect(name.description.contains("release-9"))
        let missing = try #require(ObjectID(hex: String(repeating: "ab", count: 20)))
        let commit = try await #require(throws: GitError.self) { try await fixture.mirror.commit(missing) }
        #expect(commit.kind == .notFound)
        #expect(!(await fixture.mirror.containsCommit(missing)))
    }

    @Test("commit metadata is copied out: author, time, summary, parents")
    func commitMetadata() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let origin = try FixtureRepository(at: directory.appending("origin.git"))
        let first = try origin.commit("first commit", changes: [.text("a", "1")])
        let second = try origin.commit("Second: tweak\n\nA longer body.\n", changes: [.text("a", "2")], author: "Ada", email: "ada@example.com")
        let mirror = try GitRepository.openOrCreateMirror(at: directory.appending("m.git"), remoteURL: origin.url)
        try await mirror.fetch()
        let info = try await mirror.commit(try #require(ObjectID(hex: second)))
        #expect(info.summary == "Second: tweak")
        #expect(info.message.contains("A longer body."))
        #expect(info.author.name == "Ada")
        #expect(info.author.email == "ada@example.com")
        #expect(info.author.time > 1_700_000_000)
        #expect(info.parents.map(\.hex) == [first])
    }

    @Test("object ids parse and print as hex, rejecting malformed input")
    func objectIDs() {
        let hex = "0123456789abcdef0123456789abcdef01234567"
        #expect(ObjectID(hex: hex)?.hex == hex)
        #expect(ObjectID(hex: hex.uppercased())?.hex == hex)
        #expect(ObjectID(hex: "xyz") == nil)
        #expect(ObjectID(hex: String(hex.dropLast()) + "g") == nil)
        #expect(ObjectID(hex: hex)?.short == "0123456789ab")
    }
}

/// A fixture origin with one commit of `changes`, fetched into a mirror.
struct MirroredFixture {
    let directory: TemporaryDirectory
    let origin: FixtureRepository
    let mirror: GitRepository
    let head: ObjectID

    static func make(changes: [FixtureChange]) async throws -> MirroredFixture {
        let directory = try TemporaryDirectory()
        let origin = try FixtureRepository(at: directory.appending("origin.git"))
        let head = try origin.commit("fixture", changes: changes)
        let mirror = try GitRepository.openOrCreateMirror(at: directory.appending("mirror.git"), remoteURL: origin.url)
        try await mirror.fetch()
        return MirroredFixture(directory: directory, origin: origin, mirror: mirror, head: try #require(ObjectID(hex: head)))
    }

    func remove() { directory.remove() }
}
