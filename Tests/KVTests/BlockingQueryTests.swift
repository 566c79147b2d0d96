import Foundation
import KV
import KVServer
import Testing

@Suite("Blocking queries")
struct BlockingQueryTests {
    @Test("a blocking get returns when the key changes, with a higher index")
    func wakesOnWrite() async throws {
        let kv = try await ServerAndClient.start()
        let client = kv.client
        try await client.put("watched", value: [1])
        let first = try await client.get("watched")
        async let next = client.get("watched", options: KVReadOptions(waitIndex: first.index, waitTime: .seconds(20)))
        try await Task.sleep(for: .milliseconds(200))
        try await client.put("other", value: [9])
        try await client.put("watched", value: [2])
        let changed = try await next
        #expect(changed.value?.value == [2])
        #expect(changed.index > first.index)
        await kv.stop()
    }

    @Test("a blocking query with no change returns the same index after the wait time")
    func timesOut() async throws {
        let kv = try await ServerAndClient.start()
        let client = kv.client
        try await client.put("quiet", value: [1])
        let first = try await client.get("quiet")
        let start = ContinuousClock.now
        let again = try await client.get("quiet", options: KVReadOptions(waitIndex: first.index, waitTime: .milliseconds(400)))
        let elapsed = ContinuousClock.now - start
        #expect(again.index == first.index)
        #expect(elapsed >= .milliseconds(400))
        #expect(elapsed < .seconds(60), "the wait ran on toward the default five minutes")
        await kv.stop()
    }

    @Test("a prefix watch wakes on deletes below it and its index never goes backwards")
    func prefixWatch() async throws {
        let kv = try await ServerAndClient.start()
        let client = kv.client
        try await client.put("tree/a", value: [1])
        try await client.put("tree/b", value: [1])
        let first = try await client.list(prefix: "tree/")
        async let next = client.list(prefix: "tree/", options: KVReadOptions(waitIndex: first.index, waitTime: .seconds(20)))
        try await Task.sleep(for: .milliseconds(200))
        try await client.delete("tree/b")
        let changed = try await next
        #expect(changed.value.map(\.key) == ["tree/a"])
        #expect(changed.index > first.index)
        await kv.stop()
    }

    @Test("1,000 concurrent blocking queries are all woken by one write")
    func thousandWatchers() async throws {
        let kv = try await ServerAndClient.start()
        try await kv.client.put("fanout", value: [0])
        let index = try await kv.client.get("fanout").index
        let results = try await withThrowingTaskGroup(of: [UInt8]?.self) { group in
            for _ in 0..<1000 {
                group.addTask {
                    try await kv.client.get("fanout", options: KVReadOptions(waitIndex: index, waitTime: .seconds(60))).value?.value
                }
            }
            group.addTask {
                try await Task.sleep(for: .seconds(2))
                try await kv.client.put("fanout", value: [1])
                return nil
            }
            var values: [[UInt8]] = []
            for try await value in group {
                if let value { values.append(value) }
            }
            return values
        }
        #expect(results.count == 1000)
        #expect(results.allSatisfy { $0 == [1] })
        await kv.stop()
    }
}
