import Foundation
import KV
import KVServer
import Testing

@Suite("Consul client against kv-server")
struct ConsulClientTests {
    @Test("put, get, list, keys with a separator, delete")
    func basics() async throws {
        let kv = try await ServerAndClient.start()
        let client = kv.client
        #expect(try await client.put("config/apps/web", value: Array("web".utf8)))
        #expect(try await client.put("config/apps/api", value: Array("api".utf8)))
        #expect(try await client.put("config/apps/deep/x", value: []))
        #expect(try await client.put("config/other", value: Array("o".utf8), flags: 42, cas: nil))

        let web = try await client.get("config/apps/web")
        #expect(web.value?.value == Array("web".utf8))
        #expect(web.index == web.value?.modifyIndex)
        #expect(try await client.get("config/apps/deep/x").value?.value == [], "empty values come back empty")
        #expect(try await client.get("config/other").value?.flags == 42)

        let missing = try await client.get("config/nothing")
        #expect(missing.value == nil)
        #expect(missing.index > 0, "a 404 still carries X-Consul-Index")

        #expect(try await client.list(prefix: "config/apps/").value.map(\.key) == ["config/apps/api", "config/apps/deep/x", "config/apps/web"])
        #expect(try await client.keys(prefix: "config/", separator: "/", options: .default).value == ["config/apps/", "config/other"])
        #expect(try await client.keys(prefix: "config/apps/", separator: nil, options: .default).value.count == 3)
        #expect(try await client.list(prefix: "nothing/").value.isEmpty)

        #expect(try await client.delete("config/apps/api"))
        #expect(try await client.get("config/apps/api").value == nil)
        await kv.stop()
    }

    @Test("a transaction applies all operations at one index, or none, naming the failing operation")
    func transactions() async throws {
        let kv = try await ServerAndClient.start()
        let client = kv.client
        try await client.put("p/state", value: Array("v1".utf8))
        try await client.put("p/old", value: [0])
        let state = try #require(try await client.get("p/state").value)

        let result = try await client.transaction([
            .set(key: "p/a", value: [1]),
            .set(key: "p/b", value: [2]),
            .delete(key: "p/old"),
            .cas(key: "p/state", value: Array("v2".utf8), index: state.modifyIndex),
        ])
        let a = try #require(try await client.get("p/a").value)
        let b = try #require(try await client.get("p/b").value)
        #expect(a.modifyIndex == b.modifyIndex)
        #expect(result.index == a.modifyIndex)
        #expect(try await client.get("p/old").value == nil)

        let failure = await #expect(throws: KVError.self) {
            try await client.transaction([
                .set(key: "p/c", value: [3]),
                .cas(key: "p/state", value: Array("v3".utf8), index: state.modifyIndex),
            ])
        }
        #expect(failure?.kind == .transactionFailed)
        #expect(failure?.failures.first?.operationIndex == 1)
        #expect(failure?.failures.first?.reason.contains("index is stale") == true)
        #expect(try await client.get("p/c").value == nil, "nothing of a failed transaction is applied")
        #expect(try await client.get("p/state").value?.value == Array("v2".utf8))

        let check = await #expect(throws: KVError.self) {
            try await client.transaction([.checkNotExists(key: "p/a"), .set(key: "p/d", value: [])])
        }
        #expect(check?.failures.map(\.operationIndex) == [0])
        await kv.stop()
    }

    @Test("limits are enforced before sending: 64 operations, transaction bytes, value size")
    func clientLimits() async throws {
        let kv = try await ServerAndClient.start()
        let client = kv.client
        let tooMany = (0..<65).map { KVOperation.set(key: "k/\($0)", value: []) }
        #expect(await #expect(throws: KVError.self) { try await client.transaction(tooMany) }?.kind == .tooManyOperations)
        let big = Array(repeating: UInt8(1), count: 300_000)
        #expect(await #expect(throws: KVError.self) {
            try await client.transaction([.set(key: "a", value: big), .set(key: "b", value: big)])
        }?.kind == .tooLarge)
        #expect(await #expect(throws: KVError.self) { try await client.put("v", value: Array(repeating: 0, count: 600_000)) }?.kind == .tooLarge)
        #expect(try await client.list(prefix: "").value.isEmpty, "nothing was written")
        await kv.stop()
    }

    @Test("the server refuses what Consul refuses, and the client reports it")
    func serverLimits() async throws {
        let kv = try await ServerAndClient.start()
        let lenient = ConsulClient(.init(address: kv.server.address, limits: KVLimits(maxValueSize: 1 << 30, maxTransactionOperations: 1000, maxTransactionBytes: 1 << 30)))
        let tooLarge = await #expect(throws: KVError.self) { try await lenient.put("v", value: Array(repeating: 0, count: 600_000)) }
        #expect(tooLarge?.kind == .tooLarge)
        #expect(tooLarge?.status == 413)
        let tooMany = await #expect(throws: KVError.self) {
            try await lenient.transaction((0..<65).map { .set(key: "k/\($0)", value: []) })
        }
        #expect(tooMany?.status == 413)
        #expect(tooMany?.message.contains("too many operations") == true)
        let badKey = await #expect(throws: KVError.self) { try await lenient.put("a/../b", value: [1]) }
        #expect(badKey?.kind == .badRequest)
        let spaces = await #expect(throws: KVError.self) { try await lenient.put(" lead", value: [1]) }
        #expect(spaces?.kind == .badRequest)
        await kv.stop()
    }

    @Test("connection refused is a connection error naming the address")
    func connectionRefused() async throws {
        let kv = try await ServerAndClient.start()
        let address = kv.server.address
        await kv.stop()
        let client = ConsulClient(.init(address: address, requestTimeout: .seconds(5)))
        let error = await #expect(throws: KVError.self) { try await client.get("k") }
        #expect(error?.kind == .connectionFailed)
        #expect(error?.description.contains(address) == true)
    }

    @Test("the token is sent but never appears in errors")
    func tokenNotInErrors() async throws {
        let client = ConsulClient(.init(address: "http://127.0.0.1:1", token: "secret-token-value", requestTimeout: .seconds(5)))
        let error = await #expect(throws: KVError.self) { try await client.get("k") }
        #expect(error?.description.contains("secret-token-value") == false)
    }
}
