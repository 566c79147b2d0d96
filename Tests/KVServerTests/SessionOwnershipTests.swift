import Foundation
import Testing
import TestFixtures

/// Sessions under ACLs, as Consul authorizes them: by the session's node. Against the kv-server
/// binary, with curl (out of process).
@Suite("Sessions and their owners", .serialized)
struct SessionOwnershipTests {
    private func curl(_ arguments: [String]) throws -> CurlAnswer { try Curl.run(arguments) }

    /// A token whose policy may write sessions on `node` and keys under app/.
    private func token(for node: String, base: String, bootstrap: String) throws -> String {
        let rules = "session \\\"\(node)\\\" { policy = \\\"write\\\" }\\nkey_prefix \\\"app/\\\" { policy = \\\"write\\\" }"
        let policy = try curl(["-X", "PUT", "-H", "X-Consul-Token: \(bootstrap)", "-d", "{\"Name\":\"\(node)\",\"Rules\":\"\(rules)\"}", "\(base)/v1/acl/policy"])
        #expect(policy.status == 200, "\(policy.body)")
        let token = try curl(["-X", "PUT", "-H", "X-Consul-Token: \(bootstrap)", "-d", "{\"Policies\":[{\"Name\":\"\(node)\"}]}", "\(base)/v1/acl/token"])
        return try #require((token.json as? [String: Any])?["SecretID"] as? String, "\(token.body)")
    }

    private func createSession(node: String, token: String, base: String, lockDelay: String = "\"0s\"") throws -> String {
        let created = try curl(["-X", "PUT", "-H", "X-Consul-Token: \(token)", "-d", "{\"Node\":\"\(node)\",\"LockDelay\":\(lockDelay)}", "\(base)/v1/session/create"])
        return try #require((created.json as? [String: Any])?["ID"] as? String, "\(created.status) \(created.body)")
    }

    @Test("a token cannot destroy, renew, read or lock with a session of a node it may not write; malformed and unknown ids are errors")
    func ownership() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let bootstrap = "bootstrap-secret-2"
        try bootstrap.write(toFile: directory.appending("bootstrap"), atomically: true, encoding: .utf8)
        let (server, port) = try Git2KVBinary.startKVServer(extraArguments: ["--acl-bootstrap-token-file", directory.appending("bootstrap")])
        defer { server.kill() }
        let base = "http://127.0.0.1:\(port)"
        for node in ["node-a", "node-b"] {
            let registered = try curl(["-X", "PUT", "-H", "X-Consul-Token: \(bootstrap)", "-d", "{\"Node\":\"\(node)\",\"Address\":\"10.0.0.1\"}", "\(base)/v1/catalog/register"])
            #expect(registered.status == 200, "\(registered.body)")
        }
        let unregistered = try curl(["-X", "PUT", "-H", "X-Consul-Token: \(bootstrap)", "-d", "{\"Node\":\"nowhere\"}", "\(base)/v1/session/create"])
        #expect(unregistered.status == 500 && unregistered.body.contains("Missing node registration"), "a session's node must be in the catalog")
        let alice = try token(for: "node-a", base: base, bootstrap: bootstrap)
        let bob = try token(for: "node-b", base: base, bootstrap: bootstrap)
        #expect(try curl(["-X", "PUT", "-H", "X-Consul-Token: \(bob)", "-d", "{\"Node\":\"node-a\"}", "\(base)/v1/session/create"]).status == 403)
        let aliceSession = try createSession(node: "node-a", token: alice, base: base)

        #expect(try curl(["-X", "PUT", "-H", "X-Consul-Token: \(bob)", "\(base)/v1/session/destroy/\(aliceSession)"]).status == 403)
        #expect(try curl(["-X", "PUT", "-H", "X-Consul-Token: \(bob)", "\(base)/v1/session/renew/\(aliceSession)"]).status == 403)
        let peek = try curl(["-H", "X-Consul-Token: \(bob)", "\(base)/v1/session/info/\(aliceSession)"])
        #expect(peek.status == 200 && peek.body == "[]", "\(peek.body)")
        #expect(peek.header("X-Consul-Results-Filtered-By-ACLs") == "true")
        #expect(try curl(["-H", "X-Consul-Token: \(bob)", "\(base)/v1/session/list"]).body == "[]")
        let stolenLock = try curl(["-X", "PUT", "-H", "X-Consul-Token: \(bob)", "-d", "x", "\(base)/v1/kv/app/lock?acquire=\(aliceSession)"])
        #expect(stolenLock.status == 403, "\(stolenLock.body)")
        let txn = "[{\"KV\":{\"Verb\":\"lock\",\"Key\":\"app/lock\",\"Value\":\"eA==\",\"Session\":\"\(aliceSession)\"}}]"
        #expect(try curl(["-X", "PUT", "-H", "X-Consul-Token: \(bob)", "-d", txn, "\(base)/v1/txn"]).status == 409)

        let own = try curl(["-X", "PUT", "-H", "X-Consul-Token: \(alice)", "-d", "x", "\(base)/v1/kv/app/lock?acquire=\(aliceSession)"])
        #expect(own.body == "true")
        let info = try curl(["-H", "X-Consul-Token: \(alice)", "\(base)/v1/session/info/\(aliceSession)"])
        #expect((info.json as? [[String: Any]])?.first?["Node"] as? String == "node-a")

        let malformed = try curl(["-X", "PUT", "-H", "X-Consul-Token: \(bootstrap)", "\(base)/v1/session/destroy/not-a-uuid"])
        #expect(malformed.status == 400, "\(malformed.body)")
        let unknown = try curl(["-X", "PUT", "-H", "X-Consul-Token: \(bootstrap)", "\(base)/v1/session/destroy/\(UUID().uuidString.lowercased())"])
        #expect(unknown.status == 500 && unknown.body.contains("Unknown session"), "\(unknown.body)")
        #expect(try curl(["-X", "PUT", "-H", "X-Consul-Token: \(alice)", "\(base)/v1/session/destroy/\(aliceSession)"]).body == "true")
    }

    @Test("session reads carry the index of the last session change, so a KV write neither changes it nor ends a blocking session query; LockDelay numbers under 1000 are seconds")
    func sessionIndexAndLockDelay() throws {
        let (server, port) = try Git2KVBinary.startKVServer()
        defer { server.kill() }
        let base = "http://127.0.0.1:\(port)"
        let seconds = try createSession(node: "git2kv-kv-server", token: "", base: base, lockDelay: "15")
        let text = try createSession(node: "git2kv-kv-server", token: "", base: base, lockDelay: "\"1s\"")
        let nanoseconds = try createSession(node: "git2kv-kv-server", token: "", base: base, lockDelay: "2000000000")
        func lockDelay(_ id: String) throws -> Int? {
            ((try curl(["\(base)/v1/session/info/\(id)"]).json as? [[String: Any]])?.first?["LockDelay"] as? NSNumber)?.intValue
        }
        #expect(try lockDelay(seconds) == 15_000_000_000)
        #expect(try lockDelay(text) == 1_000_000_000)
        #expect(try lockDelay(nanoseconds) == 2_000_000_000)
        #expect(try curl(["-X", "PUT", "-d", "{\"LockDelay\":\"soon\"}", "\(base)/v1/session/create"]).status == 400)

        let before = try curl(["\(base)/v1/session/list"])
        let index = try #require(before.header("X-Consul-Index"))
        #expect(try curl(["-X", "PUT", "-d", "v", "\(base)/v1/kv/unrelated"]).body == "true")
        let after = try curl(["\(base)/v1/session/list"])
        #expect(after.header("X-Consul-Index") == index, "a KV write is not a session change")
        let blocked = try curl(["\(base)/v1/session/list?index=\(index)&wait=1s"])
        #expect(blocked.header("X-Consul-Index") == index, "the blocking query ran out its wait instead of answering the KV write")
        #expect(try curl(["-X", "PUT", "\(base)/v1/session/destroy/\(seconds)"]).body == "true")
        let changed = try curl(["\(base)/v1/session/list?index=\(index)&wait=5s"])
        #expect(changed.header("X-Consul-Index").flatMap { UInt64($0) } ?? 0 > UInt64(index) ?? .max)
    }
}
