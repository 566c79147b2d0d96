import Foundation
import KVServer
import Testing
import TestFixtures

/// Raw HTTP against kv-server: malformed input gets Consul's status codes and the server keeps running.
@Suite("Malformed requests")
struct MalformedRequestTests {
    private func curl(_ arguments: [String]) throws -> (status: Int, body: String) {
        let result = try ProcessRunner.run("/usr/bin/curl", ["-s", "--path-as-is", "-o", "/dev/stderr", "-w", "%{http_code}"] + arguments)
        return (Int(result.output) ?? 0, result.errors)
    }

    @Test("bad JSON, bad base64, unknown verbs, bad indexes, bad keys and huge bodies")
    func malformed() async throws {
        let server = try await RunningKVServer.start()
        let base = server.address
        #expect(try curl(["-X", "PUT", "-d", "{not json", "\(base)/v1/txn"]).status == 400)
        #expect(try curl(["-X", "PUT", "-d", "[{\"KV\":{\"Verb\":\"set\",\"Key\":\"a\",\"Value\":\"%%%\"}}]", "\(base)/v1/txn"]).status == 400)
        let verb = try curl(["-X", "PUT", "-d", "[{\"KV\":{\"Verb\":\"explode\",\"Key\":\"a\"}}]", "\(base)/v1/txn"])
        #expect(verb.status == 400)
        #expect(verb.body.contains("explode"))
        #expect(try curl(["\(base)/v1/kv/a?index=abc"]).status == 400)
        #expect(try curl(["\(base)/v1/kv/a?index=5&wait=forever"]).status == 400)
        #expect(try curl(["-X", "PUT", "-d", "x", "\(base)/v1/kv/a?cas=-1"]).status == 400)
        #expect(try curl(["-X", "PUT", "-d", "x", "\(base)/v1/kv/a/../../etc"]).status == 400)
        #expect(try curl(["-X", "PUT", "-d", "x", "\(base)/v1/kv/"]).status == 400)

        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let huge = directory.appending("huge")
        try Data(repeating: 0x41, count: 2 << 20).write(to: URL(fileURLWithPath: huge))
        #expect(try curl(["-X", "PUT", "--data-binary", "@\(huge)", "\(base)/v1/kv/big"]).status == 413)
        #expect(try curl(["-X", "PUT", "--data-binary", "@\(huge)", "\(base)/v1/txn"]).status == 413)

        #expect(try curl(["-X", "PUT", "-d", "still alive", "\(base)/v1/kv/ok"]).status == 200)
        #expect(try curl(["\(base)/v1/kv/ok?raw"]).body == "still alive")
        await server.stop()
    }
}
