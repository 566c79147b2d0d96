import Foundation
import Testing
import TestFixtures

/// Consul's answers to the edges of its API, against the kv-server binary (out of process, so
/// the synchronous curl calls never hold a thread the server needs).
@Suite("Consul API edges", .serialized)
struct ConsulAPIEdgeTests {
    private func curl(_ arguments: [String]) throws -> CurlAnswer { try Curl.run(arguments) }

    @Test("cas=0 deletes nothing, conflicting flags are 400, // is redirected, dc, stale+consistent, wait units, raw headers")
    func edges() throws {
        let (server, port) = try Git2KVBinary.startKVServer()
        defer { server.kill() }
        let base = "http://127.0.0.1:\(port)"
        #expect(try curl(["-X", "PUT", "-d", "v", "\(base)/v1/kv/a/b"]).body == "true")

        let casZero = try curl(["-X", "DELETE", "\(base)/v1/kv/a/b?cas=0"])
        #expect(casZero.body == "false", "DELETE ?cas=0 never deletes an existing key")
        #expect(try curl(["\(base)/v1/kv/a/b?raw"]).body == "v")
        #expect(try curl(["-X", "DELETE", "\(base)/v1/kv/absent?cas=0"]).body == "true")

        let conflicting = try curl(["-X", "DELETE", "\(base)/v1/kv/a?recurse&cas=5"])
        #expect(conflicting.status == 400 && conflicting.body.hasPrefix("Conflicting flags"), "\(conflicting.body)")
        #expect(try curl(["-X", "PUT", "-d", "v", "\(base)/v1/kv/a/b?cas=0&acquire=x"]).status == 400)
        #expect(try curl(["-X", "DELETE", "\(base)/v1/kv/"]).status == 400, "deleting the root needs ?recurse")

        let doubled = try curl(["-X", "PUT", "-d", "w", "\(base)/v1/kv/a//b?flags=3"])
        #expect(doubled.status == 301)
        #expect(doubled.headers.contains("location: /v1/kv/a/b?flags=3"), "\(doubled.headers)")
        #expect(try curl(["\(base)/v1/kv/a/b?raw"]).body == "v", "the doubled slash wrote nothing")

        let otherDC = try curl(["\(base)/v1/kv/a/b?dc=elsewhere"])
        #expect(otherDC.status == 500 && otherDC.body.contains("No path to datacenter"))
        #expect(try curl(["\(base)/v1/kv/a/b?dc=dc1"]).status == 200)
        #expect(try curl(["\(base)/v1/kv/a/b?stale&consistent"]).status == 400)
        let filtered = try curl(["\(base)/v1/catalog/services?filter=ServiceName%20%3D%3D%20web"])
        #expect(filtered.status == 400 && filtered.body.contains("not supported"), "a filter is refused, never ignored: \(filtered.body)")
        #expect(try curl(["\(base)/v1/kv/a/b?index=1&wait=5"]).status == 400, "a wait without a unit is refused, as Go's ParseDuration does")

        let raw = try curl(["\(base)/v1/kv/a/b?raw"])
        #expect(raw.headers.contains("content-type: text/plain"))
        #expect(raw.headers.contains("x-content-type-options: nosniff"))
        #expect(raw.headers.contains("content-security-policy: sandbox"))
    }

    @Test("the token comes from ?token= first, then X-Consul-Token, then a bearer token in any case")
    func tokenOrder() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let bootstrap = "bootstrap-secret-1"
        let tokenFile = directory.appending("bootstrap")
        try bootstrap.write(toFile: tokenFile, atomically: true, encoding: .utf8)
        let (server, port) = try Git2KVBinary.startKVServer(extraArguments: ["--acl-bootstrap-token-file", tokenFile])
        defer { server.kill() }
        let base = "http://127.0.0.1:\(port)"
        #expect(try curl(["-X", "PUT", "-d", "v", "\(base)/v1/kv/k"]).status == 403)
        #expect(try curl(["-X", "PUT", "-d", "v", "-H", "Authorization: bearer \(bootstrap)", "\(base)/v1/kv/k"]).status == 200)
        #expect(try curl(["-X", "PUT", "-d", "v", "-H", "X-Consul-Token: wrong", "\(base)/v1/kv/k?token=\(bootstrap)"]).status == 200)
        #expect(try curl(["-X", "PUT", "-d", "v", "-H", "X-Consul-Token: \(bootstrap)", "\(base)/v1/kv/k?token=wrong"]).status == 403)
    }

    @Test("txn get-tree sees the transaction's own writes, get-or-empty answers an empty entry, and Node operations are refused by name")
    func transactionReads() throws {
        let (server, port) = try Git2KVBinary.startKVServer()
        defer { server.kill() }
        let base = "http://127.0.0.1:\(port)"
        #expect(try curl(["-X", "PUT", "-d", "1", "\(base)/v1/kv/t/a"]).body == "true")
        let txn = """
            [{"KV":{"Verb":"set","Key":"t/b","Value":"Mg=="}},{"KV":{"Verb":"get-tree","Key":"t/"}},{"KV":{"Verb":"get-or-empty","Key":"t/none"}}]
            """
        let answer = try curl(["-X", "PUT", "-d", txn, "\(base)/v1/txn"])
        #expect(answer.status == 200, "\(answer.body)")
        let results = (try JSONSerialization.jsonObject(with: Data(answer.body.utf8)) as? [String: Any])?["Results"] as? [[String: [String: Any]]]
        let keys = results?.compactMap { $0["KV"]?["Key"] as? String }
        #expect(keys == ["t/b", "t/a", "t/b", "t/none"], "\(answer.body)")
        #expect(results?.last?["KV"]?["ModifyIndex"] as? Int == 0)
        let node = try curl(["-X", "PUT", "-d", "[{\"Node\":{\"Verb\":\"get\",\"Node\":{\"Node\":\"n\"}}}]", "\(base)/v1/txn"])
        #expect(node.status == 400 && node.body.contains("Node, Service, Check and Session operations are not supported"), "\(node.body)")
    }
}
