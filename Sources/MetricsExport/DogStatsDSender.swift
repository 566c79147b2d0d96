#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// Sends DogStatsD datagrams to one agent over UDP. A send never blocks and never fails the
/// caller: when the agent is down or the socket buffer is full the datagram is dropped and
/// counted, as StatsD clients do.
public final class DogStatsDSender: Sendable {
    public let agent: String
    private let socket: Int32
    private let address: SocketAddressBytes
    private let droppedCount = Atomic<Int>(0)

    /// Resolves `host` once (a name that moves needs a restart or SIGHUP) and opens the socket.
    public init(host: String, port: Int) throws(DogStatsDError) {
        agent = host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_DGRAM.rawValue)
        hints.ai_family = AF_UNSPEC
        var results: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &results)
        guard status == 0, let first = results else {
            throw DogStatsDError("cannot resolve the DogStatsD agent \(agent): \(String(cString: gai_strerror(status)))")
        }
        defer { freeaddrinfo(results) }
        address = SocketAddressBytes(first.pointee.ai_addr, length: first.pointee.ai_addrlen)
        socket = Glibc.socket(first.pointee.ai_family, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard socket >= 0 else {
            throw DogStatsDError("cannot open a UDP socket for the DogStatsD agent \(agent): \(String(cString: strerror(errno)))")
        }
    }

    deinit { close(socket) }

    /// Datagrams not sent (agent unreachable, buffer full) since start.
    public var dropped: Int { droppedCount.load(ordering: .relaxed) }

    public func send(_ line: String) {
        var bytes = Array(line.utf8)
        let sent = bytes.withUnsafeMutableBytes { buffer in
            address.withPointer { pointer, length in
                sendto(socket, buffer.baseAddress, buffer.count, Int32(MSG_DONTWAIT), pointer, length)
            }
        }
        if sent < 0 { droppedCount.add(1, ordering: .relaxed) }
    }
}

/// A resolved socket address, copied out of getaddrinfo's list.
private struct SocketAddressBytes: Sendable {
    private let storage: [UInt8]

    init(_ pointer: UnsafeMutablePointer<sockaddr>, length: socklen_t) {
        storage = Array(UnsafeRawBufferPointer(start: pointer, count: Int(length)))
    }

    func withPointer<Result>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> Result) -> Result {
        storage.withUnsafeBytes { raw in
            body(raw.baseAddress!.assumingMemoryBound(to: sockaddr.self), socklen_t(storage.count))
        }
    }
}

public struct DogStatsDError: Error, Sendable, CustomStringConvertible {
    public let description: String

    init(_ description: String) { self.description = description }
}
