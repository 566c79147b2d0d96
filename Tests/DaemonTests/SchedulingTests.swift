@testable import Daemon
import KV
import TestFixtures
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
        let clock = ManualClock()
        let bucket = TokenBucket(operationsPerSecond: 1000, burst: 100, clock: ServiceClock(clock))
        try await bucket.admit(operations: 100)
        #expect(clock.sleeperCount == 0, "a full bucket admits a burst at once")
        // Each further 50 operations wait for 50 ms of refill at 1000/s.
        for _ in 0..<4 {
            let admitting = Task { try await bucket.admit(operations: 50) }
            await clock.waitForSleepers(1)
            #expect(clock.nextDeadline == .milliseconds(50))
            clock.advanceToNextDeadline()
            try await admitting.value
        }
        #expect(clock.now.offset == .milliseconds(200))
        #expect(await bucket.admitted == 300)
    }

    @Test func aTransactionLargerThanTheBurstStillGoes() async throws {
        let clock = ManualClock()
        let bucket = TokenBucket(operationsPerSecond: 10_000, burst: 64, clock: ServiceClock(clock))
        try await bucket.admit(operations: 500)
        #expect(await bucket.admitted == 500, "it takes the whole bucket instead of waiting forever")
    }

    @Test func retriesBackOffExponentiallyUpToThePollInterval() {
        var schedule = RetrySchedule<String>(initial: .seconds(1), pollInterval: .seconds(30))
        var now = Duration.zero
        var delays: [Duration] = []
        for _ in 0..<8 {
            let deadline = schedule.failed("main", at: now, jitter: 1)!
            delays.append(deadline - now)
            schedule.fired("main")
            now = deadline
        }
        #expect(delays == [.seconds(1), .seconds(2), .seconds(4), .seconds(8), .seconds(16), .seconds(30), .seconds(30), .seconds(30)])
        #expect(schedule.failed("main", at: now, jitter: 0)! - now == .seconds(15), "jitter spreads retries over [cap/2, cap]")
    }

    @Test func aFailureWhileARetryIsPendingStartsNoSecondChain() {
        var schedule = RetrySchedule<String>(pollInterval: .seconds(2))
        #expect(schedule.failed("main", at: .zero, jitter: 0.5) != nil)
        // Polls keep failing before the retry fires: no new retry, but the failures count.
        for second in 1...20 { #expect(schedule.failed("main", at: .seconds(second), jitter: 0.5) == nil) }
        #expect(schedule.consecutiveFailures("main") == 21)
        #expect(schedule.failed("dev", at: .zero, jitter: 0.5) != nil, "each trigger has its own schedule")
        schedule.fired("main")
        schedule.succeeded("main")
        #expect(schedule.failed("main", at: .seconds(30), jitter: 1) == .seconds(31), "a success resets the backoff")
    }

    @Test func pollsSpreadWithinTenPercentOfTheInterval() {
        #expect(PollSchedule.next(after: .seconds(100), interval: .seconds(30), jitter: 0) == .seconds(130))
        #expect(PollSchedule.next(after: .seconds(100), interval: .seconds(30), jitter: -1) == .seconds(127))
        #expect(PollSchedule.next(after: .seconds(100), interval: .seconds(30), jitter: 1) == .seconds(133))
        #expect(PollSchedule.next(after: .zero, interval: .seconds(30), jitter: 7) == .seconds(33), "jitter is clamped")
    }

    @Test func forwardedRequestsRoundTripAndRefuseGarbage() {
        let event = PushEvent(branches: ["main"], heads: ["main": String(repeating: "a", count: 40)])
        let forwarded = ForwardedSyncRequest(event, receivedBy: "replica-2 pid 42")
        #expect(ForwardedSyncRequest.decode(forwarded.encoded()) == forwarded)
        #expect(ForwardedSyncRequest.decode(forwarded.encoded())?.event == event)
        #expect(ForwardedSyncRequest(event, receivedBy: "x").id != ForwardedSyncRequest(event, receivedBy: "x").id, "each request is a new value")
        #expect(ForwardedSyncRequest.decode(Array("{\"branches\":7}".utf8)) == nil)
        #expect(ForwardedSyncRequest.decode([]) == nil)
    }

    @Test func pushHeadsCoverLiveQueuedAndReplayedHeads() {
        var heads = PushHeads()
        #expect(!heads.covers(branch: "main", head: "a", previous: nil))
        heads.requested(branch: "main", head: "a", at: .seconds(10))
        #expect(heads.covers(branch: "main", head: "a", previous: nil), "a push already asked for")
        heads.synced(branch: "main", head: "z", fetchedAt: .seconds(5))
        #expect(heads.covers(branch: "main", head: "a", previous: nil), "a pass that fetched before the push does not cover it")
        heads.synced(branch: "main", head: "a", fetchedAt: .seconds(11))
        #expect(heads.covers(branch: "main", head: "a", previous: "z"), "live")
        heads.synced(branch: "main", head: "b", fetchedAt: .seconds(20))
        #expect(heads.covers(branch: "main", head: "a", previous: "z"), "an old push replayed")
        #expect(!heads.covers(branch: "main", head: "a", previous: "b"), "a force-push back from the live head")
        #expect(!heads.covers(branch: "main", head: "a", previous: nil), "without before, a known head is fetched again")
        #expect(!heads.covers(branch: "dev", head: "a", previous: "z"), "branches are apart")
    }

    @Test func recentDeliveriesForgetTheOldestFirst() {
        var deliveries = RecentDeliveries(capacity: 3)
        for id in ["a", "b", "c", "a", "d"] { deliveries.insert(id) }
        #expect(!deliveries.contains("a"))
        #expect(deliveries.contains("b") && deliveries.contains("c") && deliveries.contains("d"))
    }

    @Test func fetchBudgetLetsBurstsGoAndPacesFloods() {
        var budget = FetchBudget(every: .seconds(1), burst: 3, now: .zero)
        for _ in 0..<3 { #expect(budget.reserve(at: .seconds(10)) == nil, "a burst goes at once") }
        #expect(budget.reserve(at: .seconds(10)) == .seconds(11))
        #expect(budget.reserve(at: .seconds(10)) == .seconds(12), "later ones queue behind the reserved one")
        #expect(budget.reserve(at: .seconds(20)) == nil, "refilled after a quiet spell")
        var unlimited = FetchBudget(every: .zero, burst: 1, now: .zero)
        for _ in 0..<10 { #expect(unlimited.reserve(at: .zero) == nil) }
    }
}
