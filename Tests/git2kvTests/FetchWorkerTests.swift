import Foundation
import GitKit
import Pipeline
import TestFixtures
import Testing

/// Fetches through `git2kv fetch-worker`, the child process the daemon kills at a deadline.
@Suite("Fetches in a worker process")
struct FetchWorkerTests {
    let fetcher = IsolatedFetcher(executable: Git2KVBinary.path)

    private func mirror(of url: String, in directory: TemporaryDirectory) throws -> GitRepository {
        try GitRepository.openOrCreateMirror(at: directory.appending("mirror.git"), remoteURL: url)
    }

    @Test("a worker fetches every branch into the mirror and reports what moved")
    func fetches() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let origin = try FixtureRepository(at: directory.appending("origin.git"))
        let head = try origin.commit("first", changes: [.text("apps/a.txt", "a")])
        let mirror = try mirror(of: origin.url, in: directory)
        let updates = try await fetcher.fetch(mirror: mirror.path, url: origin.url, credentials: .none, caFile: nil, timeouts: FetchTimeouts())
        #expect(updates.contains(ReferenceUpdate(name: "refs/heads/main", oldID: nil, newID: ObjectID(hex: head))))
        #expect(try await mirror.resolveBranch("main").hex == head)
    }

    @Test("a remote that accepts and never answers is given up at the connect timeout, leaving the mirror usable")
    func hungRemote() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let silent = try SilentServer()
        defer { silent.stop() }
        let mirror = try mirror(of: silent.url(for: "config.git"), in: directory)
        let timeouts = FetchTimeouts(connect: .seconds(1), inactivity: .seconds(1), total: .seconds(600))
        let error = try await #require(throws: GitError.self) {
            try await fetcher.fetch(mirror: mirror.path, url: silent.url(for: "config.git"), credentials: .none, caFile: nil, timeouts: timeouts)
        }
        #expect(error.kind == .remoteUnreachable)
        #expect(error.description.contains("connect timeout of 1s"), "\(error)")
        #expect(silent.connections >= 1)
    }

    @Test("stopAll ends a fetch that hangs, at once, and refuses new ones")
    func stopAll() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let silent = try SilentServer()
        defer { silent.stop() }
        let fetcher = IsolatedFetcher(executable: Git2KVBinary.path)
        let mirror = try mirror(of: silent.url(for: "x.git"), in: directory)
        let path = mirror.path
        let url = silent.url(for: "x.git")
        let fetch = Task { () throws(GitError) -> [ReferenceUpdate] in
            try await fetcher.fetch(mirror: path, url: url, credentials: .none, caFile: nil, timeouts: FetchTimeouts())
        }
        try await eventually("the worker connected to the silent server") { silent.connections >= 1 }
        fetcher.stopAll()
        let error = try #require(await fetch.result.failure as? GitError)
        #expect(error.description.contains("shutting down"), "\(error)")
        let again = try await #require(throws: GitError.self) {
            try await fetcher.fetch(mirror: path, url: url, credentials: .none, caFile: nil, timeouts: FetchTimeouts())
        }
        #expect(again.description.contains("shutting down"))
    }

    @Test("lock files left by a killed fetch do not fail the next one")
    func staleLocks() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let origin = try FixtureRepository(at: directory.appending("origin.git"))
        try origin.commit("first", changes: [.text("a.txt", "a")])
        let mirror = try mirror(of: origin.url, in: directory)
        _ = try await fetcher.fetch(mirror: mirror.path, url: origin.url, credentials: .none, caFile: nil, timeouts: FetchTimeouts())
        let second = try origin.commit("second", changes: [.text("a.txt", "b")])
        for lock in ["refs/heads/main.lock", "packed-refs.lock"] {
            #expect(FileManager.default.createFile(atPath: mirror.path + "/" + lock, contents: Data()))
        }
        _ = try await fetcher.fetch(mirror: mirror.path, url: origin.url, credentials: .none, caFile: nil, timeouts: FetchTimeouts())
        #expect(try await mirror.resolveBranch("main").hex == second)
        #expect(!FileManager.default.fileExists(atPath: mirror.path + "/refs/heads/main.lock"))
    }

    @Test("credentials reach the worker through its input: a secret that cannot be read fails in the parent")
    func credentials() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let (served, _) = try servedRepository(in: directory)
        let server = try GitHTTPServer(root: served, username: "deploy", password: "right")
        defer { server.stop() }
        let url = server.url(for: "config.git")
        let mirror = try mirror(of: url, in: directory)
        let secret = directory.appending("password")
        try "right\n".write(toFile: secret, atomically: true, encoding: .utf8)
        let updates = try await fetcher.fetch(
            mirror: mirror.path, url: url, credentials: .userPassword(username: "deploy", password: .file(secret)), caFile: nil,
            timeouts: FetchTimeouts())
        #expect(!updates.isEmpty)
        let missing = try await #require(throws: GitError.self) {
            try await fetcher.fetch(
                mirror: mirror.path, url: url, credentials: .token(.file("/nonexistent/token")), caFile: nil, timeouts: FetchTimeouts())
        }
        #expect(missing.kind == .credentialsUnavailable)
        let wrong = try await #require(throws: GitError.self) {
            try await fetcher.fetch(
                mirror: mirror.path, url: url, credentials: .userPassword(username: "deploy", password: .value("wrong")), caFile: nil,
                timeouts: FetchTimeouts())
        }
        #expect(wrong.kind == .authenticationFailed)
        #expect(wrong.description.contains("a value given by the program"), "the error names the source, not the secret: \(wrong)")
    }

    @Test("a password in the repo URL is used but never written to the mirror, whose config is owner-only")
    func urlPasswordNotStored() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let (served, _) = try servedRepository(in: directory)
        let server = try GitHTTPServer(root: served, username: "deploy", password: "s3cret-pw")
        defer { server.stop() }
        let url = "http://deploy:s3cret-pw@127.0.0.1:\(server.port)/config.git"
        let mirror = try mirror(of: url, in: directory)
        _ = try await fetcher.fetch(mirror: mirror.path, url: url, credentials: .none, caFile: nil, timeouts: FetchTimeouts())
        let config = try String(contentsOfFile: mirror.path + "/config", encoding: .utf8)
        #expect(!config.contains("s3cret-pw") && !config.contains("deploy@"))
        let mode = try #require(FileManager.default.attributesOfItem(atPath: mirror.path + "/config")[.posixPermissions] as? Int)
        #expect(mode & 0o077 == 0)
    }

    private func servedRepository(in directory: TemporaryDirectory) throws -> (root: String, head: String) {
        let root = directory.appending("served")
        let origin = try FixtureRepository(at: root + "/config.git")
        let head = try origin.commit("first", changes: [.text("apps/a.txt", "a")])
        return (root, head)
    }
}

extension Result {
    var failure: Failure? {
        if case .failure(let error) = self { return error }
        return nil
    }
}
