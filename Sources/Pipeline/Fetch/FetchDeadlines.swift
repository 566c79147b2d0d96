/// Which deadline of a running fetch comes next, and which one has passed: a state machine fed
/// with the worker's events and the clock, so it is tested without a network.
struct FetchDeadlines: Sendable, Equatable {
    enum Expired: Sendable, Equatable {
        case connect, inactivity, total
    }

    let timeouts: FetchTimeouts
    let startedAt: Duration
    private(set) var connected = false
    private(set) var lastActivity: Duration

    init(timeouts: FetchTimeouts, startedAt: Duration) {
        self.timeouts = timeouts
        self.startedAt = startedAt
        lastActivity = startedAt
    }

    /// The worker said something: the remote answered (`connected`) or objects arrived.
    mutating func record(connected: Bool, at now: Duration) {
        if connected { self.connected = true }
        lastActivity = max(lastActivity, now)
    }

    /// The earliest moment one of the deadlines can pass.
    var next: Duration {
        let idle = connected ? lastActivity + timeouts.inactivity : startedAt + timeouts.connect
        return min(idle, startedAt + timeouts.total)
    }

    /// The deadline that has passed at `now`, if any; the total one wins a tie.
    func expired(at now: Duration) -> Expired? {
        if now >= startedAt + timeouts.total { return .total }
        if !connected, now >= startedAt + timeouts.connect { return .connect }
        if connected, now >= lastActivity + timeouts.inactivity { return .inactivity }
        return nil
    }

    func explanation(of expired: Expired) -> String {
        switch expired {
        case .connect: "the remote did not list its references within the connect timeout of \(timeouts.connect.configText)"
        case .inactivity: "the remote sent nothing for the inactivity timeout of \(timeouts.inactivity.configText)"
        case .total: "the fetch did not finish within the total timeout of \(timeouts.total.configText)"
        }
    }
}
