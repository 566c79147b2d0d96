import Foundation
import GitKit
import Testing
import TestFixtures

@Suite("Credentials over HTTP")
struct CredentialsTests {
    private func servedRepository() throws -> (TemporaryDirectory, String) {
        let directory = try TemporaryDirectory()
        let origin = try FixtureRepository(at: directory.appending("served/config.git"))
        let head = try origin.commit("served", changes: [.text("apps/web/a.json", "{}\n")])
        return (directory, head)
    }

    @Test("a token from a file authenticates a fetch over HTTP basic auth")
    func tokenFromFile() async throws {
        let (directory, head) = try servedRepository()
        defer { directory.remove() }
        let server = try GitHTTPServer(root: directory.appending("served"), username: "deploy", password: "s3cret-token")
        defer { server.stop() }
        let tokenFile = directory.appending("token")
        try "s3cret-token\n".write(toFile: tokenFile, atomically: true, encoding: .utf8)

        let mirror = try GitRepository.openOrCreateMirror(at: directory.appending("mirror.git"), remoteURL: server.url(for: "config.git"))
        try await mirror.fetch(credentials: .token(.file(tokenFile), username: "deploy"))
        #expect(try await mirror.resolveBranch("main").hex == head)
    }

    @Test("user and password from the environment authenticate a fetch")
    func passwordFromEnvironment() async throws {
        let (directory, head) = try servedRepository()
        defer { directory.remove() }
        let server = try GitHTTPServer(root: directory.appending("served"), username: "deploy", password: "env-pass")
        defer { server.stop() }
        setenv("GIT2KV_TEST_PASSWORD", "env-pass", 1)

        let mirror = try GitRepository.openOrCreateMirror(at: directory.appending("mirror.git"), remoteURL: server.url(for: "config.git"))
        try await mirror.fetch(credentials: .userPassword(username: "deploy", password: .environment("GIT2KV_TEST_PASSWORD")))
        #expect(try await mirror.resolveBranch("main").hex == head)
    }

    @Test("wrong credentials fail as authentication failed, once, without the secret in the message")
    func wrongCredentials() async throws {
        let (directory, _) = try servedRepository()
        defer { directory.remove() }
        let server = try GitHTTPServer(root: directory.appending("served"), username: "deploy", password: "right")
        defer { server.stop() }

        let mirror = try GitRepository.openOrCreateMirror(at: directory.appending("mirror.git"), remoteURL: server.url(for: "config.git"))
        let error = try await #require(throws: GitError.self) {
            try await mirror.fetch(credentials: .token(.value("wrong-secret-value"), username: "deploy"))
        }
        #expect(error.kind == .authenticationFailed)
        #expect(error.description.contains("rejected"))
        #expect(!error.description.contains("wrong-secret-value"))
    }

    @Test("a remote that asks for credentials when none are configured says so")
    func missingCredentials() async throws {
        let (directory, _) = try servedRepository()
        defer { directory.remove() }
        let server = try GitHTTPServer(root: directory.appending("served"), username: "deploy", password: "right")
        defer { server.stop() }

        let mirror = try GitRepository.openOrCreateMirror(at: directory.appending("mirror.git"), remoteURL: server.url(for: "config.git"))
        let error = try await #require(throws: GitError.self) { try await mirror.fetch() }
        #expect(error.kind == .authenticationFailed)
        #expect(error.description.contains("none that fit are configured"))
    }

    @Test("a credential file that does not exist fails before any network traffic")
    func unreadableSecret() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let mirror = try GitRepository.openOrCreateMirror(
            at: directory.appending("mirror.git"), remoteURL: "http://127.0.0.1:\(ClosedPort.find())/x.git")
        let error = try await #require(throws: GitError.self) {
            try await mirror.fetch(credentials: .token(.file("/nonexistent/token")))
        }
        #expect(error.kind == .credentialsUnavailable)
        #expect(error.description.contains("/nonexistent/token"))

        unsetenv("GIT2KV_TEST_UNSET_VARIABLE")
        let unset = try await #require(throws: GitError.self) {
            try await mirror.fetch(credentials: .userPassword(username: "u", password: .environment("GIT2KV_TEST_UNSET_VARIABLE")))
        }
        #expect(unset.description.contains("GIT2KV_TEST_UNSET_VARIABLE is not set"))
    }

    @Test("credentials embedded in a remote URL never appear in errors")
    func urlCredentialsRedacted() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let url = "http://deploy:super-secret@127.0.0.1:\(ClosedPort.find())/x.git"
        let mirror = try GitRepository.openOrCreateMirror(at: directory.appending("mirror.git"), remoteURL: url)
        let error = try await #require(throws: GitError.self) { try await mirror.fetch() }
        #expect(!error.description.contains("super-secret"))
        #expect(!error.description.contains("deploy:"))
    }

    @Test("descriptions of credentials name their source, never the secret")
    func credentialDescriptions() {
        let described = [
            GitCredentials.token(.value("tok-123")).description,
            GitCredentials.userPassword(username: "u", password: .value("pw-456")).description,
            GitCredentials.sshKey(username: "git", privateKeyPath: "/k", passphrase: .value("pp-789")).description,
        ].joined(separator: " ")
        #expect(!described.contains("tok-123") && !described.contains("pw-456") && !described.contains("pp-789"))
        #expect(GitCredentials.token(.file("/etc/t")).description.contains("/etc/t"))
    }
}

@Suite("TLS settings")
struct TLSSettingsTests {
    @Test("a CA bundle that does not exist is refused with the path in the error")
    func missingCABundle() {
        let error = #expect(throws: GitError.self) { try GitTLS.trustCertificates(file: "/nonexistent/ca.pem") }
        #expect(error?.description.contains("/nonexistent/ca.pem") == true)
    }
}
