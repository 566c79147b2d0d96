import GitKit

/// Which deadline of a running fetch comes next, and which one has passed: a state machine fed
/// with the worker's events and the clock, so it is tested without a network.
struct FetchDeadlines: Sendable, Equatable {
    enum Expired: Sendable, Equatable {
        case startup, connect, inactivity, total
    }

    /// How long the worker process may take to start (a loaded machine, a cold disk).
    static let startup = Duration.seconds(30)

    let timeouts: FetchTimeouts
    let startedAt: Duration
    /// When the worker said it runs; the connect deadline counts from here.
    private(set) var runningSince: Duration?
    private(set) var connected = false
    private(set) var lastActivity: Duration

    init(timeouts: FetchTimeouts, startedAt: Duration) {
        self.timeouts = timeouts
        self.startedAt = startedAt
        lastActivity = startedAt
    }

    /// The worker said something: it runs (`started`), the remote answered (`connected`) or
    /// objects arrived.
    mutating func record(_ event: FetchWorkerEvent, at now: Duration) {
        switch event {
        case .started: runningSince = runningSince ?? now
        case .connected: connected = true
        case .progress, .finished, .failed: break
        }
        lastActivity = max(lastActivity, now)
    }

    /// The earliest moment one of the deadlines can pass.
    var next: Duration {
        let idle: Duration
        if connected {
            idle = lastActivity + timeouts.inactivity
        } else if let runningSince {
            idle = runningSince + timeouts.connect
        } else {
            idle = startedAt + Self.startup
        }
        return min(idle, startedAt + timeouts.total)
    }

    /// The deadline that has passed at `now`, if any; the total one wins a tie.
    func expired(at now: Duration) -> Expired? {
        if now >= startedAt + timeouts.total { return .total }
        if connected { return now >= lastActivity + timeouts.inactivity ? .inactivity : nil }
        guard let runningSince else { return now >= startedAt + Self.startup ? .startup : nil }
        return now >= runningSince + timeouts.connect ? .connect : nil
    }

    func explanation(of expired: Expired) -> String {
        switch expired {
        case .startup: "the fetch worker process did not start within \(Self.startup.configText)"
        case .connect: "the remote did not list its references within the connect timeout of \(timeouts.connect.configText)"
        case .inactivity: "the remote sent nothing for the inactivity timeout of \(timeouts.inactivity.configText)"
        case .total: "the fetch did not finish within the total timeout of \(timeouts.total.configText)"
        }
    }
}
