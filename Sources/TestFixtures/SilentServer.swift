import Foundation
import Synchronization

/// A peer that hangs: listens on 127.0.0.1 (a free port), accepts every connection and never
/// answers, holding the sockets open until stopped. What a stuck git server or KV node looks like.
public final class SilentServer: Sendable {
    public let port: Int
    private let listener: Int32
    private let state = Shared()

    private final class Shared: Sendable {
        struct State {
            var accepted: [Int32] = []
            var stopped = false
        }
        private let mutex = Mutex(State())
        func withLock<T>(_ body: (inout State) -> T) -> T { mutex.withLock { body(&$0) } }
    }

    public init() throws {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.listener = listener
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(listener, pointer, length) == 0 && listen(listener, 512) == 0 && getsockname(listener, pointer, &length) == 0
            }
        }
        guard bound else {
            close(listener)
            throw POSIXError(.EADDRNOTAVAIL)
        }
        port = Int(UInt16(bigEndian: address.sin_port))
        let thread = Thread { [listener, state] in
            while true {
                let connection = accept(listener, nil, nil)
                guard connection >= 0 else { return }
                let keep = state.withLock { state in
                    if !state.stopped { state.accepted.append(connection) }
                    return !state.stopped
                }
                if !keep { close(connection) }
            }
        }
        thread.start()
    }

    /// Connections accepted so far (and still held).
    public var connections: Int { state.withLock { $0.accepted.count } }

    public func url(for path: String) -> String { "http://127.0.0.1:\(port)/\(path)" }

    /// Closes the listener and every held connection.
    public func stop() {
        let accepted: [Int32]? = state.withLock { state in
            guard !state.stopped else { return nil }
            state.stopped = true
            defer { state.accepted = [] }
            return state.accepted
        }
        guard let accepted else { return }
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
        accepted.forEach { close($0) }
    }

    deinit { stop() }
}
