/// How long a fetch may take (`repos[].timeouts`): until the remote lists its references
/// (`connect`), between two signs of progress (`inactivity`), and in all (`total`). The defaults
/// let a slow but working forge finish a large first clone.
public struct FetchTimeouts: Sendable, Equatable {
    public var connect: Duration
    public var inactivity: Duration
    public var total: Duration

    public init(connect: Duration = .seconds(30), inactivity: Duration = .seconds(120), total: Duration = .seconds(30 * 60)) {
        self.connect = connect
        self.inactivity = inactivity
        self.total = total
    }
}
