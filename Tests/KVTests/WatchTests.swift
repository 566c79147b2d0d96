import Foundation
import KV
import KVServer
import Synchronization
import Testing
import TestFixtures

@Suite("Watches: index rules, backoff, request rate")
struct WatchTests {
    @Test("the index resets to 0 when it goes backwards or is 0, and 0 is never sent as a wait index")
    func indexRules() {
        var index = WatchIndex()
        #expect(index.waitIndex == nil)
        var news = index.advance(to: 10)
        #expect(news, "the first answer is news")
        #expect(index.waitIndex == 10)
        news = index.advance(to: 10)
        #expect(!news, "an unchanged index means the wait ran out")
        news = index.advance(to: 12)
        #expect(news)
        news = index.advance(to: 5)
        #expect(news, "an index going backwards is reported")
        #expect(index.waitIndex == nil, "and the next read does not block")
        news = index.advance(to: 5)
        #expect(news)
        #expect(index.waitIndex == 5)
        news = index.advance(to: 0)
        #expect(news)
        #expect(index.waitIndex == nil)
    }

    @Test("after a failed query the next one does not block and its answer is news, even at the same index", .timeLimit(.minutes(1)))
    func failureForgetsTheIndex() async throws {
        let script = Mutex<[Result<KVRead<String>, KVError>]>([
            .success(KVRead(value: "before the restart", index: 10)),
            .failure(KVError(kind: .connectionFailed, operation: "get k", message: "connection refused")),
            .success(KVRead(value: "rewritten after the restart", index: 10)),
        ])
        let waits = Mutex<[UInt64?]>([])
        let policy = WatchPolicy(
            waitTime: .seconds(1), waitJitter: 0, minimumSpacing: .zero, backoff: Backoff(initial: .milliseconds(1), maximum: .milliseconds(2)))
        let watch = KVWatch<String>(policy: policy) { options throws(KVError) in
            waits.withLock { $0.append(options.waitIndex) }
            let next = script.withLock { $0.isEmpty ? nil : $0.removeFirst() }
            guard let next else { throw KVError(kind: .connectionFailed, operation: "get k", message: "script ended") }
            return try next.get()
        }
        var values: [String] = []
        for await update in watch.updates() {
            if case .value(let read) = update { values.append(read.value) }
            if values.count == 2 { break }
        }
        #expect(values == ["before the restart", "rewritten after the restart"])
        #expect(Array(waits.withLock { $0 }.prefix(3)) == [nil, 10, nil])
    }

    @Test("backoff delays double up to the maximum and stay within [cap/2, cap]")
    func backoffBounds() {
        let backoff = Backoff(initial: .milliseconds(100), maximum: .seconds(3))
        #expect(backoff.cap(afterFailures: 1) == .milliseconds(100))
        #expect(backoff.cap(afterFailures: 2) == .milliseconds(200))
        #expect(backoff.cap(afterFailures: 5) == .milliseconds(1600))
        #expect(backoff.cap(afterFailures: 6) == .seconds(3))
        #expect(backoff.cap(afterFailures: 1000) == .seconds(3))
        for failures in 1...20 {
            let cap = backoff.cap(afterFailures: failures)
            for _ in 0..<50 {
                let delay = backoff.delay(afterFailures: failures)
                #expect(delay >= cap / 2 && delay <= cap)
            }
        }
    }

    @Test("a watch reports each change once, and an idle watch makes one request per wait period")
    func idleCostAndChanges() async throws {
        let kv = try await ServerAndClient.start()
        try await kv.client.put("watched", value: [1])
        let policy = WatchPolicy(waitTime: .seconds(1), waitJitter: 0, minimumSpacing: .milliseconds(10))
        let seen = Mutex<[[UInt8]]>([])
        let task = Task {
            await kv.client.watch(key: "watched", policy: policy).run { update in
                if case .value(let read) = update { seen.withLock { $0.append(read.value?.value ?? []) } }
            }
        }
        try await Task.sleep(for: .milliseconds(300))
        let before = kv.server.requests.value
        try await Task.sleep(for: .milliseconds(3_300))
        let idleRequests = kv.server.requests.value - before
        // At most one request per 1 s wait (plus the one in flight); a loaded machine may answer
        // late and make fewer, never more.
        #expect((1...5).contains(idleRequests), "about one request per 1 s wait, got \(idleRequests) in 3.3 s")
        try await kv.client.put("watched", value: [2])
        let deadline = ContinuousClock.now + .seconds(10)
        while seen.withLock({ $0.count }) < 2, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        try await Task.sleep(for: .milliseconds(100))
        task.cancel()
        let values = seen.withLock { $0 }
        #expect(values == [[1], [2]])
        await kv.stop()
    }

    @Test("a flapping key cannot make a watcher query faster than its minimum spacing")
    func minimumSpacing() async throws {
        let kv = try await ServerAndClient.start()
        try await kv.client.put("flapping", value: [0])
        let client = kv.client
        let clock = ManualClock()
        let policy = WatchPolicy(waitTime: .seconds(5), minimumSpacing: .milliseconds(500))
        let watch = KVWatch(policy: policy, clock: ServiceClock(clock)) { options throws(KVError) in try await client.get("flapping", options: options) }
        let answers = Mutex(0)
        let task = Task { await watch.run { _ in answers.withLock { $0 += 1 } } }
        try await eventually("the first answer") { answers.withLock { $0 } == 1 }
        await clock.waitForSleepers(1)
        let before = kv.server.requests.value
        let writer = ConsulClient(.init(address: kv.server.address))
        for write in 0..<40 { try await writer.put("flapping", value: [UInt8(write + 1)]) }
        #expect(kv.server.requests.value - before == 40, "the watch sent a query before its spacing had passed")
        clock.advance(by: .milliseconds(500))
        try await eventually("the next answer, once the spacing passed") { answers.withLock { $0 } == 2 }
        await clock.waitForSleepers(1)
        #expect(kv.server.requests.value - before == 41, "forty changes cost one query")
        task.cancel()
        await task.value
        await kv.stop()
    }

    @Test("errors are reported, each with a retry delay within the backoff bounds")
    func backoffOnErrors() async throws {
        let client = ConsulClient(.init(address: "http://127.0.0.1:\(ClosedPort.find())", requestTimeout: .seconds(2)))
        let policy = WatchPolicy(waitTime: .seconds(1), backoff: Backoff(initial: .milliseconds(50), maximum: .milliseconds(200)))
        let failures = Mutex<[Duration]>([])
        let task = Task {
            await client.watch(key: "k", policy: policy).run { update in
                if case .failure(let error, let delay) = update {
                    #expect(error.kind == .connectionFailed)
                    failures.withLock { $0.append(delay) }
                }
            }
        }
        let deadline = ContinuousClock.now + .seconds(30)
        while failures.withLock({ $0.count }) < 3, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
        task.cancel()
        let delays = failures.withLock { $0 }
        #expect(delays.count >= 3)
        #expect(delays.allSatisfy { $0 <= .milliseconds(200) })
    }
}
