import Foundation
import KV
import Pipeline
import StoreFixtures
import TestFixtures
import Testing

/// etcd auth as git2kv uses it: each mapping syncs as its own etcd user (`token_file` holds
/// `USER:PASSWORD`), whose role may write only that mapping's prefix.
@Suite("Sync on etcd with auth")
struct EtcdAuthSyncTests {
    @Test("each mapping's user writes its own prefix; a user without the prefix fails clearly, writes nothing and is never printed")
    func mappingUsersAreScoped() async throws {
        var harness = try await SyncHarness.start(
            mappings: "[{source: apps, prefix: config/apps}, {source: dns, prefix: dns}]", backend: .etcd)
        let started = harness
        defer { Task { await started.stop() } }
        let cluster = try #require(harness.server.etcd)
        try await cluster.addUser("apps-writer", password: "apps-pass-1", prefixes: ["config/apps/"], write: true)
        try await cluster.addUser("dns-writer", password: "dns-pass-2", prefixes: ["dns/"], write: true)
        try await cluster.enableAuth(rootPassword: "root-pass-3")
        try harness.repository.commit("initial", changes: [.text("apps/web/a.conf", "a\n"), .text("dns/hosts", "10.0.0.1 a\n")])

        let appsToken = harness.directory.appending("apps.token")
        let dnsToken = harness.directory.appending("dns.token")
        try "apps-writer:apps-pass-1\n".write(toFile: appsToken, atomically: true, encoding: .utf8)
        try "dns-writer:dns-pass-2\n".write(toFile: dnsToken, atomically: true, encoding: .utf8)
        harness.config.repos[0].mappings[0].token = .file(appsToken)
        harness.config.repos[0].mappings[1].token = .file(dnsToken)
        let report = await harness.sync()
        #expect(report.failures.isEmpty, "\(report.failures.map(\.error.description))")
        let root = harness.server.client(token: "root:root-pass-3")
        #expect(try await root.get("config/apps/web").value != nil)
        #expect(try await root.get("dns/_root").value != nil)

        // The dns mapping given the apps user: refused by etcd, nothing written under dns/.
        try harness.repository.commit("change dns", changes: [.text("dns/hosts", "10.0.0.2 a\n")])
        let before = try await root.get("dns/_root").value
        harness.config.repos[0].mappings[1].token = .file(appsToken)
        let refused = await harness.sync()
        let failure = try #require(refused.failures.first)
        #expect(failure.error.description.contains("ermission denied"), "\(failure.error.description)")
        #expect(!failure.error.description.contains("apps-pass-1"))
        #expect(try await root.get("dns/_root").value == before)
    }
}
