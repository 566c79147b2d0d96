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
        let updates = try await fetcher.fetch(mirror: mirror.path, url: origin.url, credentials: .none, timeouts: FetchTimeouts())
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
            try await fetcher.fetch(mirror: mirror.path, url: silent.url(for: "config.git"), credentials: .none, timeouts: timeouts)
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
            try await fetcher.fetch(mirror: path, url: url, credentials: .none, timeouts: FetchTimeouts())
        }
        try await eventually("the worker connected to the silent server") { silent.connections >= 1 }
        fetcher.stopAll()
        let error = try #require(await fetch.result.failure as? GitError)
        #expect(error.description.contains("shutting down"), "\(error)")
        let again = try await #require(throws: GitError.self) {
            try await fetcher.fetch(mirror: path, url: url, credentials: .none, timeouts: FetchTimeouts())
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
        _ = try await fetcher.fetch(mirror: mirror.path, url: origin.url, credentials: .none, timeouts: FetchTimeouts())
        let second = try origin.commit("second", changes: [.text("a.txt", "b")])
        for lock in ["refs/heads/main.lock", "packed-refs.lock"] {
            #expect(FileManager.default.createFile(atPath: mirror.path + "/" + lock, contents: Data()))
        }
        _ = try await fetcher.fetch(mirror: mirror.path, url: origin.url, credentials: .none, timeouts: FetchTimeouts())
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
            mirror: mirror.path, url: url, credentials: .userPassword(username: "deploy", password: .file(secret)),
            timeouts: FetchTimeouts())
        #expect(!updates.isEmpty)
        let missing = try await #require(throws: GitError.self) {
            try await fetcher.fetch(
                mirror: mirror.path, url: url, credentials: .token(.file("/nonexistent/token")), timeouts: FetchTimeouts())
        }
        #expect(missing.kind == .credentialsUnavailable)
        let wrong = try await #require(throws: GitError.self) {
            try await fetcher.fetch(
                mirror: mirror.path, url: url, credentials: .userPassword(username: "deploy", password: .value("wrong")),
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
        _ = try await fetcher.fetch(mirror: mirror.path, url: url, credentials: .none, timeouts: FetchTimeouts())
        let config = try String(contentsOfFile: mirror.path + "/config", encoding: .utf8)
        #expect(!config.contains("s3cret-pw") && !config.contains("deploy@"))
        let mode = try #require(FileManager.default.attributesOfItem(atPath: mirror.path + "/config")[.posixPermissions] as? Int)
        #expect(mode & 0o077 == 0)
    }

    @Test("an HTTPS remote signed by a private CA is refused without ca_file and fetched with it")
    func privateCertificateAuthority() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let certificates = try TestCertificates(in: directory.path)
        let (served, head) = try servedRepository(in: directory)
        let server = try GitHTTPServer(root: served, username: nil, tls: (certificates.certificate, certificates.key))
        defer { server.stop() }
        let url = server.url(for: "config.git")
        let mirror = try mirror(of: url, in: directory)
        let untrusted = try await #require(throws: GitError.self) {
            try await fetcher.fetch(mirror: mirror.path, url: url, credentials: .none, timeouts: FetchTimeouts())
        }
        #expect(untrusted.kind == .remoteUnreachable, "\(untrusted)")
        #expect(untrusted.description.lowercased().contains("certificate"), "\(untrusted)")
        _ = try await fetcher.fetch(mirror: mirror.path, url: url, credentials: .none, trust: RemoteTrust(caFile: certificates.authority), timeouts: FetchTimeouts())
        #expect(try await mirror.resolveBranch("main").hex == head)
        let missing = try await #require(throws: GitError.self) {
            try await fetcher.fetch(mirror: mirror.path, url: url, credentials: .none, trust: RemoteTrust(caFile: directory.appending("nope.pem")), timeouts: FetchTimeouts())
        }
        #expect(missing.description.contains("nope.pem"), "a CA file that cannot be read is named: \(missing)")
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

/// SSH remotes against a real sshd: host keys checked against the configured known_hosts file.
@Suite("SSH remotes", .serialized)
struct SSHRemoteTests {
    let fetcher = IsolatedFetcher(executable: Git2KVBinary.path)

    struct Setup {
        let directory: TemporaryDirectory
        let server: SSHServer
        let origin: FixtureRepository
        let head: String
        let mirror: GitRepository

        init() throws {
            directory = try TemporaryDirectory(prefix: "git2kv-ssh")
            server = try SSHServer(directory: directory.path)
            origin = try FixtureRepository(at: directory.appending("origin.git"))
            head = try origin.commit("first", changes: [.text("apps/a.txt", "a")])
            mirror = try GitRepository.openOrCreateMirror(at: directory.appending("mirror.git"), remoteURL: server.url(for: origin.path))
        }

        var url: String { server.url(for: origin.path) }

        func knownHosts(_ text: String) throws -> String {
            let path = directory.appending("known_hosts-\(UUID().uuidString.prefix(6))")
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            return path
        }

        func stop() {
            server.stop()
            directory.remove()
        }
    }

    @Test("a host key listed in known_hosts_file (plain or hashed) is trusted; the fetch works with an ed25519 key")
    func trustedHostKey() async throws {
        let setup = try Setup()
        defer { setup.stop() }
        let key = GitCredentials.sshKey(username: setup.server.user, privateKeyPath: setup.server.ed25519Key)
        let plain = try setup.knownHosts("# a comment\n" + setup.server.knownHostsLine + "\n")
        _ = try await fetcher.fetch(mirror: setup.mirror.path, url: setup.url, credentials: key, trust: RemoteTrust(knownHostsFile: plain), timeouts: FetchTimeouts())
        #expect(try await setup.mirror.resolveBranch("main").hex == setup.head)

        let hashed = try setup.knownHosts(setup.server.knownHostsLine + "\n")
        let result = try ProcessRunner.run("/usr/bin/ssh-keygen", ["-H", "-f", hashed])
        #expect(result.status == 0)
        #expect(try String(contentsOfFile: hashed, encoding: .utf8).hasPrefix("|1|"))
        _ = try await fetcher.fetch(mirror: setup.mirror.path, url: setup.url, credentials: key, trust: RemoteTrust(knownHostsFile: hashed), timeouts: FetchTimeouts())
    }

    @Test("an unknown host, a changed host key and a missing known_hosts file are refused, naming the file and the key's fingerprint")
    func untrustedHostKeys() async throws {
        let setup = try Setup()
        defer { setup.stop() }
        let key = GitCredentials.sshKey(username: setup.server.user, privateKeyPath: setup.server.ed25519Key)
        func refusal(_ trust: RemoteTrust) async throws -> GitError {
            try await #require(throws: GitError.self) {
                try await fetcher.fetch(mirror: setup.mirror.path, url: setup.url, credentials: key, trust: trust, timeouts: FetchTimeouts())
            }
        }
        let empty = try setup.knownHosts("")
        let unknown = try await refusal(RemoteTrust(knownHostsFile: empty))
        #expect(unknown.kind == .untrustedRemote)
        #expect(unknown.message.contains("is not in \(empty)") && unknown.message.contains("SHA256:") && unknown.message.contains("ssh-keyscan -p"), "\(unknown)")

        let otherKey = try String(contentsOfFile: setup.server.ed25519Key + ".pub", encoding: .utf8).split(separator: " ")
        let changed = try setup.knownHosts("[127.0.0.1]:\(setup.server.port) \(otherKey[0]) \(otherKey[1])\n")
        let mismatch = try await refusal(RemoteTrust(knownHostsFile: changed))
        #expect(mismatch.kind == .untrustedRemote)
        #expect(mismatch.message.contains("does not match") && mismatch.message.contains("line 1"), "\(mismatch)")

        let missing = try await refusal(RemoteTrust(knownHostsFile: setup.directory.appending("no-such-known-hosts")))
        #expect(missing.message.contains("no-such-known-hosts"), "\(missing)")
    }

    @Test("an RSA user key the server refuses gets an error that says why and what to do")
    func rsaUserKey() async throws {
        let setup = try Setup()
        defer { setup.stop() }
        let trust = RemoteTrust(knownHostsFile: try setup.knownHosts(setup.server.knownHostsLine + "\n"))
        let rsa = GitCredentials.sshKey(username: setup.server.user, privateKeyPath: setup.server.rsaKey)
        let error = try await #require(throws: GitError.self) {
            try await fetcher.fetch(mirror: setup.mirror.path, url: setup.url, credentials: rsa, trust: trust, timeouts: FetchTimeouts())
        }
        #expect(error.kind == .authenticationFailed)
        #expect(error.message.contains("the key is RSA") && error.message.contains("ed25519"), "\(error)")
    }
}
