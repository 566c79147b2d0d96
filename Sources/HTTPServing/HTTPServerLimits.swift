public import HummingbirdCore
import NIOCore

/// Limits every HTTP port of git2kv (serve, render, kv-server) puts on its clients, so slow or
/// idle connections cannot pile up until descriptors run out: each request must arrive whole
/// within `requestTimeout`, an idle keep-alive connection is closed after `idleTimeout`, and at
/// most `maxConnections` are open (more are closed on arrival).
public struct HTTPServerLimits: Sendable, Equatable {
    public var requestTimeout: Duration
    public var idleTimeout: Duration
    public var maxConnections: Int

    public init(requestTimeout: Duration = .seconds(30), idleTimeout: Duration = .seconds(60), maxConnections: Int = 4096) {
        self.requestTimeout = requestTimeout
        self.idleTimeout = idleTimeout
        self.maxConnections = maxConnections
    }

    /// An HTTP/1.1 server enforcing these limits. The connection cap is lowered to fit the
    /// descriptors this process may open (after raising its soft limit), keeping a reserve for
    /// git, KV and files.
    public func http1() -> HTTPServerBuilder {
        let available = FileDescriptorLimit.raiseToHardLimit()
        let cap = max(16, min(maxConnections, available - FileDescriptorLimit.reserve))
        let counter = ConnectionCounter(limit: cap)
        let requestTimeout = TimeAmount(requestTimeout)
        return .http1(
            configuration: .init(
                additionalChannelHandlers: [ConnectionLimitHandler(counter: counter), RequestDeadlineHandler(timeout: requestTimeout)],
                idleTimeout: TimeAmount(idleTimeout)))
    }
}
