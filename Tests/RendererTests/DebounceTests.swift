@testable import Renderer
import Testing

@Suite struct DebounceTests {
    let wait = RendererConfig.Wait(min: .seconds(2), max: .seconds(10))

    @Test func nothingChangedMeansNoDeadline() {
        #expect(Debounce(wait: wait).deadline == nil)
    }

    @Test func aQuietSpellOfMinEndsTheBurst() {
        var debounce = Debounce(wait: wait)
        debounce.changed(at: .seconds(100))
        #expect(debounce.deadline == .seconds(102))
        debounce.changed(at: .seconds(101))
        #expect(debounce.deadline == .seconds(103), "each change pushes the deadline to min after it")
    }

    @Test func aBurstNeverWaitsLongerThanMax() {
        var debounce = Debounce(wait: wait)
        for second in stride(from: 100, through: 120, by: 1) { debounce.changed(at: .seconds(second)) }
        #expect(debounce.deadline == .seconds(110), "changes every second would wait forever without max")
        debounce.reset()
        #expect(debounce.deadline == nil)
        debounce.changed(at: .seconds(121))
        #expect(debounce.deadline == .seconds(123), "the next burst starts afresh")
    }
}
