import Foundation
import Testing
import TestFixtures

/// A real third-party Consul client, unchanged, against the `git2kv kv-server` binary.
@Suite("python-consul against kv-server")
struct ThirdPartyClientTests {
    @Test("KV, cas, recurse, keys, blocking get, sessions and locks, txn, catalog and health")
    func pythonConsul() throws {
        let script = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Support/python_consul_client.py").path
        let (server, port) = try Git2KVBinary.startKVServer()
        defer { server.kill() }
        let result = try ProcessRunner.run("/usr/bin/python3", [script, String(port)])
        #expect(result.status == 0, "\(result.output)\(result.errors)")
        #expect(result.output.contains("ok"))
    }
}
