import Foundation
import Synchronization

/// A UDP socket on 127.0.0.1 and a free port that keeps every datagram it receives, for tests
/// of what a process sends to a DogStatsD agent. Reading happens on a thread of its own.
public final class UDPReceiver: Sendable {
    public let port: Int
    private let descriptor: Int32
    private let received = Mutex<[String]>([])
    private let stopped = Atomic<Bool>(false)

    public init() throws {
        let descriptor = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        guard descriptor >= 0 else { throw UDPReceiverError("socket: \(String(cString: strerror(errno)))") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(descriptor, pointer, length) == 0 && getsockname(descriptor, pointer, &length) == 0
            }
        }
        guard bound else { throw UDPReceiverError("bind 127.0.0.1:0: \(String(cString: strerror(errno)))") }
        self.descriptor = descriptor
        port = Int(UInt16(bigEndian: address.sin_port))
        var timeout = timeval(tv_sec: 0, tv_usec: 100_000)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        Thread.detachNewThread { [self] in readUntilStopped() }
    }

    /// Every datagram so far, one string each, in arrival order.
    public var datagrams: [String] { received.withLock { $0 } }

    /// The lines of every datagram (DogStatsD clients may pack several into one).
    public var lines: [String] { datagrams.flatMap { $0.split(separator: "\n").map(String.init) } }

    public func stop() {
        stopped.store(true, ordering: .relaxed)
    }

    private func readUntilStopped() {
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while !stopped.load(ordering: .relaxed) {
            let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { continue }
            let datagram = String(decoding: buffer[..<count], as: UTF8.self)
            received.withLock { $0.append(datagram) }
        }
        close(descriptor)
    }
}

public struct UDPReceiverError: Error, CustomStringConvertible {
    public let description: String

    init(_ description: String) { self.description = description }
}
