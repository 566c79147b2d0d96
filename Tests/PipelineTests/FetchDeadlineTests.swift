import Testing

@testable import Pipeline

@Suite("Fetch deadlines")
struct FetchDeadlineTests {
    let timeouts = FetchTimeouts(connect: .seconds(10), inactivity: .seconds(30), total: .seconds(300))

    @Test("before the remote answers only the connect deadline counts")
    func connectDeadline() {
        var deadlines = FetchDeadlines(timeouts: timeouts, startedAt: .seconds(100))
        #expect(deadlines.next == .seconds(110))
        #expect(deadlines.expired(at: .seconds(109)) == nil)
        #expect(deadlines.expired(at: .seconds(110)) == .connect)
        deadlines.record(connected: false, at: .seconds(105))
        #expect(deadlines.expired(at: .seconds(110)) == .connect, "stray output before the references is no answer")
        #expect(deadlines.explanation(of: .connect).contains("connect timeout of 10s"))
    }

    @Test("once connected, each sign of progress moves the inactivity deadline")
    func inactivityDeadline() {
        var deadlines = FetchDeadlines(timeouts: timeouts, startedAt: .zero)
        deadlines.record(connected: true, at: .seconds(5))
        #expect(deadlines.next == .seconds(35))
        deadlines.record(connected: false, at: .seconds(30))
        #expect(deadlines.expired(at: .seconds(40)) == nil)
        #expect(deadlines.next == .seconds(60))
        #expect(deadlines.expired(at: .seconds(60)) == .inactivity)
    }

    @Test("a fetch that keeps trickling is still stopped at the total deadline")
    func totalDeadline() {
        var deadlines = FetchDeadlines(timeouts: timeouts, startedAt: .zero)
        deadlines.record(connected: true, at: .seconds(1))
        var now = Duration.seconds(1)
        while now < .seconds(300) {
            #expect(deadlines.expired(at: now) == nil)
            now += .seconds(20)
            deadlines.record(connected: false, at: now)
        }
        #expect(deadlines.next == .seconds(300))
        #expect(deadlines.expired(at: .seconds(300)) == .total)
        #expect(deadlines.explanation(of: .total).contains("total timeout of 5m"))
    }
}
