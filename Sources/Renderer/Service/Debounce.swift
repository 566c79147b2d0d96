/// consul-template's quiescence: after a change, wait until `min` passes without another one,
/// but never longer than `max` after the first change of the burst.
struct Debounce: Sendable {
    let wait: RendererConfig.Wait
    private(set) var firstChange: ContinuousClock.Instant?
    private(set) var lastChange: ContinuousClock.Instant?

    init(wait: RendererConfig.Wait) {
        self.wait = wait
    }

    mutating func changed(at now: ContinuousClock.Instant) {
        if firstChange == nil { firstChange = now }
        lastChange = now
    }

    /// When the burst may render; nil when nothing changed.
    var deadline: ContinuousClock.Instant? {
        guard let firstChange, let lastChange else { return nil }
        return min(lastChange + wait.min, firstChange + wait.max)
    }

    mutating func reset() {
        firstChange = nil
        lastChange = nil
    }
}
