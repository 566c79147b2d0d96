import Foundation
import HTTPServing
import Hummingbird
import TestFixtures
import Testing

@Suite("HTTP server limits")
struct HTTPServerLimitsTests {
    @Test("a client that never finishes its request is disconnected at the request timeout; others are answered meanwhile")
    func slowRequestClosed() async throws {
        try await withServer(HTTPServerLimits(requestTimeout: .seconds(1), idleTimeout: .seconds(60), maxConnections: 100)) { port in
            let slow = try RawConnection(port: port)
            try slow.send("GET /health HTTP/1.1\r\nHost: x\r\n")
            #expect(try await offPool { try RawConnection.get("/health", port: port) }.hasPrefix("HTTP/1.1 200"))
            #expect(try await offPool { slow.readUntilClosed(timeout: .seconds(20)) }, "the slow connection was not closed")
        }
    }

    @Test("a request trickling its body is cut too: the timeout covers the whole request")
    func slowBodyClosed() async throws {
        try await withServer(HTTPServerLimits(requestTimeout: .seconds(1), idleTimeout: .seconds(60), maxConnections: 100)) { port in
            let slow = try RawConnection(port: port)
            try slow.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\nabc")
            #expect(try await offPool { slow.readUntilClosed(timeout: .seconds(20)) })
        }
    }

    @Test("over the connection cap new connections are closed at once; under it they are served")
    func connectionCap() async throws {
        try await withServer(HTTPServerLimits(requestTimeout: .seconds(60), idleTimeout: .seconds(60), maxConnections: 20)) { port in
            var held: [RawConnection] = []
            for _ in 0..<20 { held.append(try RawConnection(port: port)) }
            let refused = try RawConnection(port: port)
            #expect(try await offPool { refused.readUntilClosed(timeout: .seconds(20)) }, "a connection over the cap stayed open")
            held.removeAll()
            try await eventually("a slot is free again") {
                (try? await offPool { try RawConnection.get("/health", port: port) }.hasPrefix("HTTP/1.1 200")) ?? false
            }
        }
    }

    @Test("hundreds of stalled connections do not keep /health from answering")
    func healthUnderSlowConnections() async throws {
        try await withServer(HTTPServerLimits(requestTimeout: .seconds(30), idleTimeout: .seconds(60), maxConnections: 4096)) { port in
            var stalled: [RawConnection] = []
            for _ in 0..<500 {
                let connection = try RawConnection(port: port)
                try connection.send("GET /health HTTP/1.1\r\n")
                stalled.append(connection)
            }
            #expect(try await offPool { try RawConnection.get("/health", port: port) }.hasPrefix("HTTP/1.1 200"))
            withExtendedLifetime(stalled) {}
            stalled.removeAll()
        }
    }

    private func withServer(_ limits: HTTPServerLimits, _ body: @escaping @Sendable (Int) async throws -> Void) async throws {
        let router = Router()
        router.get("/health") { _, _ in "ok" }
        router.post("/echo") { request, _ in
            var request = request
            return String(buffer: try await request.collectBody(upTo: 1 << 20))
        }
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let application = Application(
            router: router, server: limits.http1(), configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in continuation.yield(channel.localAddress?.port ?? 0) })
        let server = Task { try await application.runService() }
        defer { server.cancel() }
        var iterator = ports.makeAsyncIterator()
        let port = try #require(await iterator.next())
        try await body(port)
    }
}

/// Runs blocking socket calls on a thread of their own: blocking the cooperative pool (two
/// threads here) would starve the server under test.
func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try body() }) }.start()
    }
}

/// A blocking loopback TCP client that writes raw bytes, for clients a library would not imitate.
final class RawConnection: @unchecked Sendable {
    let descriptor: Int32

    init(port: Int) throws {
        guard let descriptor = LoopbackSocket.connect(port: port) else {
            throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .ECONNREFUSED)
        }
        self.descriptor = descriptor
    }

    deinit { close(descriptor) }

    func send(_ text: String) throws {
        let bytes = Array(text.utf8)
        guard write(descriptor, bytes, bytes.count) == bytes.count else { throw POSIXError(.EPIPE) }
    }

    /// Reads until the server closes the connection; false when it is still open at `timeout`.
    func readUntilClosed(timeout: Duration) -> Bool {
        var wait = timeval(tv_sec: Int(timeout.components.seconds), tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &wait, socklen_t(MemoryLayout<timeval>.size))
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = read(descriptor, &buffer, buffer.count)
            if count == 0 { return true }
            if count < 0 { return errno == ECONNRESET }
        }
    }

    /// One GET with `Connection: close`; the whole answer.
    static func get(_ path: String, port: Int) throws -> String {
        let connection = try RawConnection(port: port)
        try connection.send("GET \(path) HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        var wait = timeval(tv_sec: 20, tv_usec: 0)
        setsockopt(connection.descriptor, SOL_SOCKET, SO_RCVTIMEO, &wait, socklen_t(MemoryLayout<timeval>.size))
        var answer: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = read(connection.descriptor, &buffer, buffer.count)
            if count <= 0 { break }
            answer += buffer[0..<count]
        }
        return String(decoding: answer, as: UTF8.self)
    }
}
