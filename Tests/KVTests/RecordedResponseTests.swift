import Foundation
import HTTPTypes
import Hummingbird
import KV
import Logging
import NIOCore
import Testing

/// Serves the recorded Consul answers in Fixtures/consul over loopback HTTP.
struct RecordedConsul: HTTPResponder {
    typealias Context = BasicRequestContext

    struct Recording {
        let request: String
        let bodyContains: String?
        let status: Int
        let headers: [String: String]
        let body: [UInt8]
    }

    let recordings: [Recording]

    static func load() throws -> RecordedConsul {
        let directory = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/consul")
        var recordings: [Recording] = []
        for name in try FileManager.default.contentsOfDirectory(atPath: directory.path) where name.hasSuffix(".json") {
            let data = try Data(contentsOf: directory.appendingPathComponent(name))
            let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
            let body: [UInt8]
            if let text = object["bodyText"] as? String {
                body = Array(text.utf8)
            } else {
                body = Array(try JSONSerialization.data(withJSONObject: object["body"] ?? NSNull(), options: [.fragmentsAllowed]))
            }
            let request = try #require(object["request"] as? String)
            recordings.append(Recording(
                request: request, bodyContains: object["bodyContains"] as? String,
                status: try #require(object["status"] as? Int), headers: object["headers"] as? [String: String] ?? [:], body: body))
        }
        return RecordedConsul(recordings: recordings)
    }

    func respond(to request: Request, context: Context) async throws -> Response {
        let body = String(buffer: try await request.body.collect(upTo: 1 << 20))
        let candidates = recordings.filter { $0.request == "\(request.method) \(request.uri.path)" }
        let chosen = candidates.first { $0.bodyContains.map(body.contains) ?? false } ?? candidates.first { $0.bodyContains == nil }
        guard let recording = chosen else {
            return Response(status: .notImplemented)
        }
        var headers = HTTPFields()
        for (name, value) in recording.headers { headers[HTTPField.Name(name)!] = value }
        return Response(
            status: HTTPResponse.Status(code: recording.status), headers: headers,
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: recording.body)))
    }
}

@Suite("The client parses Consul's recorded answers")
struct RecordedResponseTests {
    private func withRecordings(_ body: @escaping @Sendable (ConsulClient) async throws -> Void) async throws {
        let responder = try RecordedConsul.load()
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let application = Application(
            responder: responder, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { continuation.yield($0.localAddress?.port ?? 0) },
            logger: { var logger = Logger(label: "recorded"); logger.logLevel = .critical; return logger }())
        let server = Task { try await application.run() }
        var iterator = ports.makeAsyncIterator()
        let port = try #require(await iterator.next())
        do {
            try await body(ConsulClient(.init(address: "http://127.0.0.1:\(port)")))
        } catch {
            server.cancel()
            throw error
        }
        server.cancel()
    }

    @Test("KV reads: values, flags, sessions, null values, 404 with an index, keys, stale headers")
    func kvReads() async throws {
        try await withRecordings { client in
            let web = try await client.get("config/apps/web")
            #expect(web.index == 200)
            #expect(web.value?.value == Array("web config".utf8))
            #expect(web.value?.flags == 42)
            #expect(web.value?.lockIndex == 1)
            #expect(web.value?.session == "adf4238a-882b-9ddc-4a9d-5b6758e4159e")
            #expect(try await client.get("config/empty").value?.value == [])
            let missing = try await client.get("config/missing")
            #expect(missing.value == nil)
            #expect(missing.index == 305)
            let stale = try await client.get("config/stale", options: KVReadOptions(consistency: .stale))
            #expect(!stale.knownLeader)
            #expect(stale.lastContactMilliseconds == 1500)
            #expect(try await client.keys(prefix: "config/", separator: "/", options: .default).value == ["config/apps/", "config/other"])
        }
    }

    @Test("transactions: results, and a 409 naming the failing operation")
    func transactions() async throws {
        try await withRecordings { client in
            let result = try await client.transaction([.set(key: "p/a", value: [])])
            #expect(result.entries.map(\.key) == ["p/a"])
            #expect(result.index == 500)
            let failure = await #expect(throws: KVError.self) {
                try await client.transaction([.set(key: "p/a", value: []), .cas(key: "p/state", value: [], index: 9)])
            }
            #expect(failure?.kind == .transactionFailed)
            #expect(failure?.failures.first?.operationIndex == 1)
            #expect(failure?.failures.first?.reason == "cas p/state: failed to set key \"p/state\", index is stale")
        }
    }

    @Test("errors: no leader, permission denied, value too large")
    func errors() async throws {
        try await withRecordings { client in
            #expect(await #expect(throws: KVError.self) { try await client.get("config/any") }?.kind == .noLeader)
            let denied = await #expect(throws: KVError.self) { try await client.put("config/secret", value: [1]) }
            #expect(denied?.kind == .permissionDenied)
            #expect(denied?.description.contains("put config/secret") == true)
            let large = await #expect(throws: KVError.self) { try await client.put("config/big", value: [1]) }
            #expect(large?.kind == .tooLarge)
        }
    }

    @Test("sessions, catalog services and health")
    func sessionsAndCatalog() async throws {
        try await withRecordings { client in
            #expect(try await client.createSession(KVSessionOptions(name: "x", ttl: .seconds(15))) == "adf4238a-882b-9ddc-4a9d-5b6758e4159e")
            let services = try await client.services(options: .default)
            #expect(services.value == ["consul": [], "redis": [], "postgresql": ["primary", "secondary"]])
            #expect(services.index == 700)
            let redis = try await client.instances(of: "redis", passingOnly: false, options: .default).value
            #expect(redis.map(\.node) == ["foobar", "bazqux"])
            #expect(redis.map(\.passing) == [true, false])
            #expect(redis.map(\.address) == ["10.1.10.12", "10.1.10.13"], "an empty service address means the node's")
            #expect(redis.map(\.port) == [8000, 8001])
        }
    }
}
