/// consul-template's quiescence: after a change, wait until `min` passes without another one,
/// but never longer than `max` after the first change of the burst. Times are offsets on the
/// watcher's clock.
struct Debounce: Sendable {
    let wait: RendererConfig.Wait
    private(set) var firstChange: Duration?
    private(set) var lastChange: Duration?

    init(wait: RendererConfig.Wait) {
        self.wait = wait
    }

    mutating func changed(at now: Duration) {
        if firstChange == nil { firstChange = now }
        lastChange = now
    }

    /// When the burst may render; nil when nothing changed.
    var deadline: Duration? {
        guard let firstChange, let lastChange else { return nil }
        return min(lastChange + wait.min, firstChange + wait.max)
    }

    mutating func reset() {
        firstChange = nil
        lastChange = nil
    }
}
