@testable import Daemon
import Testing

@Suite struct SchedulingTests {
    @Test func coalescerKeepsOneRunningAndOneQueued() {
        var coalescer = SyncCoalescer<String>()
        #expect(coalescer.request("main") == .start)
        #expect(coalescer.request("main") == .queued)
        for _ in 0..<98 { #expect(coalescer.request("main") == .coalesced) }
        #expect(coalescer.request("dev") == .start, "branches do not wait for each other")
        #expect(coalescer.finished("main") == true, "the queued follow-up runs")
        #expect(coalescer.request("main") == .queued)
        #expect(coalescer.finished("main") == true)
        #expect(coalescer.finished("main") == false)
        #expect(coalescer.request("main") == .start)
    }

    @Test func tokenBucketPacesOperationsBeyondTheBurst() async throws {
        let bucket = TokenBucket(operationsPerSecond: 1000, burst: 100)
        let clock = ContinuousClock()
        let start = clock.now
        try await bucket.admit(operations: 100)
        #expect(start.duration(to: clock.now) < .milliseconds(50), "a full bucket admits a burst at once")
        for _ in 0..<4 { try await bucket.admit(operations: 50) }
        // 200 operations beyond the burst at 1000/s take at least 0.2 s.
        #expect(start.duration(to: clock.now) >= .milliseconds(190))
        #expect(await bucket.admitted == 300)
    }

    @Test func aTransactionLargerThanTheBurstStillGoes() async throws {
        let bucket = TokenBucket(operationsPerSecond: 10_000, burst: 64)
        try await bucket.admit(operations: 500)
        #expect(await bucket.admitted == 500)
    }
}
