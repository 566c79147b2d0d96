import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// Small HTTP calls of the harness: health checks and webhook posts, each with a short timeout.
enum HTTPProbe {
    /// The status code, or nil when nothing answered in time.
    static func status(
        _ url: String, method: HTTPMethod = .GET, headers: [(String, String)] = [], body: [UInt8]? = nil, timeout: Duration = .seconds(2)
    ) async -> Int? {
        var request = HTTPClientRequest(url: url)
        request.method = method
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body { request.body = .bytes(ByteBuffer(bytes: body)) }
        do {
            let response = try await HTTPClient.shared.execute(request, timeout: .nanoseconds(Int64(timeout.components.seconds * 1_000_000_000)))
            _ = try? await response.body.collect(upTo: 1 << 20)
            return Int(response.status.code)
        } catch {
            return nil
        }
    }

    /// Waits until `url` answers 200; false when `timeout` ran out first.
    static func waitUntilHealthy(_ url: String, timeout: Duration) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if await status(url) == 200 { return true }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return false
    }
}

extension HTTPProbe {
    /// The body of a GET answered 200, or nil.
    static func text(_ url: String) async -> String? {
        guard let response = try? await HTTPClient.shared.execute(HTTPClientRequest(url: url), timeout: .seconds(5)), response.status == .ok,
            let body = try? await response.body.collect(upTo: 16 << 20)
        else { return nil }
        return String(buffer: body)
    }
}
