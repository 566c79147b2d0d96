import Foundation
import Synchronization

/// A TCP proxy on 127.0.0.1 (a free port) in front of one upstream port, counting the bytes
/// that pass each way and the HTTP requests: how much KV traffic a client causes, measured on
/// the wire.
public final class ByteCountingProxy: Sendable {
    public let port: Int
    private let counters = Counters()

    private final class Counters: Sendable {
        let sent = Atomic<Int>(0)
        let received = Atomic<Int>(0)
        let requests = Atomic<Int>(0)
    }

    public init(upstreamPort: Int) throws {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = Self.loopback(port: 0)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(listener, $0, length) == 0 && listen(listener, 128) == 0 && getsockname(listener, $0, &length) == 0
            }
        }
        guard bound else { throw BenchmarkFailure("the byte-counting proxy cannot listen") }
        port = Int(UInt16(bigEndian: address.sin_port))
        let counters = counters
        Thread {
            while true {
                let client = accept(listener, nil, nil)
                guard client >= 0 else { return }
                let upstream = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
                var target = Self.loopback(port: upstreamPort)
                let connected = withUnsafePointer(to: &target) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(upstream, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
                }
                guard connected else {
                    close(client)
                    close(upstream)
                    continue
                }
                let pair = Pair(client, upstream)
                Thread {
                    Self.pump(from: client, to: upstream, counter: counters.sent, requests: counters.requests, countsRequests: true)
                    pair.directionEnded()
                }.start()
                Thread {
                    Self.pump(from: upstream, to: client, counter: counters.received, requests: counters.requests, countsRequests: false)
                    pair.directionEnded()
                }.start()
            }
        }.start()
    }

    /// Both sockets of one proxied connection, closed when both directions have ended.
    private final class Pair: Sendable {
        let descriptors: (Int32, Int32)
        private let ended = Atomic<Int>(0)

        init(_ first: Int32, _ second: Int32) { descriptors = (first, second) }

        func directionEnded() {
            guard ended.add(1, ordering: .acquiringAndReleasing).newValue == 2 else { return }
            close(descriptors.0)
            close(descriptors.1)
        }
    }

    /// Bytes from clients to the upstream so far.
    public var sent: Int { counters.sent.load(ordering: .relaxed) }
    /// Bytes from the upstream to clients so far.
    public var received: Int { counters.received.load(ordering: .relaxed) }
    /// HTTP requests from clients so far.
    public var requests: Int { counters.requests.load(ordering: .relaxed) }

    /// Request lines start with a method and ` /`; no request body git2kv sends holds a blank
    /// (JSON without whitespace, base64, raw values with their own framing are counted wrong at
    /// worst once in 2^40 bytes).
    private static let requestStarts: [[UInt8]] = ["GET /", "PUT /", "POST /", "DELETE /", "HEAD /"].map { Array($0.utf8) }

    private static func countRequests(in bytes: ArraySlice<UInt8>) -> Int {
        var found = 0
        var index = bytes.startIndex
        while index < bytes.endIndex {
            for start in requestStarts where bytes[index...].starts(with: start) { found += 1 }
            index += 1
        }
        return found
    }

    private static func pump(
        from source: Int32, to destination: Int32, counter: borrowing Atomic<Int>, requests: borrowing Atomic<Int>, countsRequests: Bool
    ) {
        var buffer = [UInt8](repeating: 0, count: 65_536)
        // The last bytes of the previous read, so a request line cut between two reads counts.
        var carry: [UInt8] = []
        while true {
            let count = read(source, &buffer, buffer.count)
            guard count > 0 else { break }
            counter.add(count, ordering: .relaxed)
            if countsRequests {
                let window = carry + buffer[0..<count]
                requests.add(countRequests(in: window[...]) - countRequests(in: carry[...]), ordering: .relaxed)
                carry = Array(window.suffix(7))
            }
            var offset = 0
            while offset < count {
                let written = buffer[offset..<count].withUnsafeBytes { write(destination, $0.baseAddress, count - offset) }
                guard written > 0 else { break }
                offset += written
            }
        }
        shutdown(destination, Int32(SHUT_WR))
        shutdown(source, Int32(SHUT_RD))
    }

    private static func loopback(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        return address
    }
}
