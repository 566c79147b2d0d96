import GitKit
import Testing

@testable import Pipeline

@Suite("Fetch deadlines")
struct FetchDeadlineTests {
    let timeouts = FetchTimeouts(connect: .seconds(10), inactivity: .seconds(30), total: .seconds(300))
    static let progress = TransferProgress(totalObjects: 9, receivedObjects: 1, indexedObjects: 0, localObjects: 0, receivedBytes: 100)

    @Test("the connect deadline counts from the worker's start, not its spawn; a worker that never starts is given up too")
    func connectDeadline() {
        var deadlines = FetchDeadlines(timeouts: timeouts, startedAt: .seconds(100))
        #expect(deadlines.next == .seconds(130), "the start-up allowance")
        #expect(deadlines.expired(at: .seconds(115)) == nil, "a slow start-up is not the remote's fault")
        #expect(deadlines.expired(at: .seconds(130)) == .startup)
        deadlines.record(.started, at: .seconds(104))
        #expect(deadlines.next == .seconds(114))
        #expect(deadlines.expired(at: .seconds(113)) == nil)
        #expect(deadlines.expired(at: .seconds(114)) == .connect)
        deadlines.record(.progress(TransferProgress(totalObjects: 0, receivedObjects: 0, indexedObjects: 0, localObjects: 0, receivedBytes: 0)), at: .seconds(110))
        #expect(deadlines.expired(at: .seconds(114)) == .connect, "output before the references is no answer")
        #expect(deadlines.explanation(of: .connect).contains("connect timeout of 10s"))
        #expect(deadlines.explanation(of: .startup).contains("did not start"))
    }

    @Test("once connected, each sign of progress moves the inactivity deadline")
    func inactivityDeadline() {
        var deadlines = FetchDeadlines(timeouts: timeouts, startedAt: .zero)
        deadlines.record(.started, at: .seconds(1))
        deadlines.record(.connected, at: .seconds(5))
        #expect(deadlines.next == .seconds(35))
        deadlines.record(.progress(Self.progress), at: .seconds(30))
        #expect(deadlines.expired(at: .seconds(40)) == nil)
        #expect(deadlines.next == .seconds(60))
        #expect(deadlines.expired(at: .seconds(60)) == .inactivity)
    }

    @Test("a fetch that keeps trickling is still stopped at the total deadline")
    func totalDeadline() {
        var deadlines = FetchDeadlines(timeouts: timeouts, startedAt: .zero)
        deadlines.record(.started, at: .zero)
        deadlines.record(.connected, at: .seconds(1))
        var now = Duration.seconds(1)
        while now < .seconds(300) {
            #expect(deadlines.expired(at: now) == nil)
            now += .seconds(20)
            deadlines.record(.progress(Self.progress), at: now)
        }
        #expect(deadlines.next == .seconds(300))
        #expect(deadlines.expired(at: .seconds(300)) == .total)
        #expect(deadlines.explanation(of: .total).contains("total timeout of 5m"))
    }
}
