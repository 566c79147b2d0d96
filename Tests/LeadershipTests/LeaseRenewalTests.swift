import Testing
@testable import Leadership

@Suite struct LeaseRenewalTests {
    @Test func renewsEveryThirdOfTheTTL() {
        var renewal = LeaseRenewal(ttl: .seconds(15), renewedAt: .zero)
        #expect(renewal.nextAttempt == .seconds(5))
        renewal.renewed(at: .seconds(5))
        #expect(renewal.nextAttempt == .seconds(10))
    }

    @Test func keepsLeadingThroughFailuresShorterThanTheTTL() {
        var renewal = LeaseRenewal(ttl: .seconds(15), renewedAt: .zero)
        let first = renewal.failed(at: .seconds(5))
        #expect(first)
        #expect(renewal.nextAttempt == .seconds(10), "a failed renewal is tried again at the same pace")
        let second = renewal.failed(at: .seconds(10))
        #expect(second)
        renewal.renewed(at: .seconds(14))
        let afterRenewal = renewal.failed(at: .seconds(28))
        #expect(afterRenewal, "the TTL counts from the last good renewal")
    }

    @Test func stepsDownOnceAWholeTTLPassedWithoutARenewal() {
        var renewal = LeaseRenewal(ttl: .seconds(15), renewedAt: .seconds(100))
        let outcomes = [105, 110, 115].map { renewal.failed(at: .seconds($0)) }
        #expect(outcomes == [true, true, false])
    }
}
