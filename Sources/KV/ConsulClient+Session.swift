import Foundation

extension ConsulClient: KVLocking {
    private struct SessionCreateBody: Encodable {
        let name: String
        let ttl: String
        let behavior: String
        let lockDelay: String

        enum CodingKeys: String, CodingKey { case name = "Name", ttl = "TTL", behavior = "Behavior", lockDelay = "LockDelay" }
    }

    private struct SessionID: Decodable {
        let id: String

        enum CodingKeys: String, CodingKey { case id = "ID" }
    }

    public func createSession(_ options: KVSessionOptions) async throws(KVError) -> String {
        let operation = "create session \(options.name)"
        let body = SessionCreateBody(
            name: options.name, ttl: ConsulWire.formatDuration(options.ttl), behavior: options.behavior.rawValue,
            lockDelay: ConsulWire.formatDuration(options.lockDelay))
        let encoded: [UInt8]
        do {
            encoded = Array(try JSONEncoder().encode(body))
        } catch {
            throw KVError(kind: .invalidRequest, operation: operation, message: "cannot encode: \(error)")
        }
        let reply = try await send(.PUT, path: "/v1/session/create", body: encoded, operation: operation)
        guard reply.status == 200 else { throw failure(reply, operation: operation) }
        return try decode(SessionID.self, reply, operation: operation).id
    }

    public func renewSession(_ id: String) async throws(KVError) -> Bool {
        let operation = "renew session \(id)"
        let reply = try await send(.PUT, path: "/v1/session/renew/" + Self.keyPath(id), operation: operation)
        switch reply.status {
        case 200: return true
        case 404: return false
        default: throw failure(reply, operation: operation)
        }
    }

    public func destroySession(_ id: String) async throws(KVError) {
        let operation = "destroy session \(id)"
        let reply = try await send(.PUT, path: "/v1/session/destroy/" + Self.keyPath(id), operation: operation)
        guard reply.status == 200 else { throw failure(reply, operation: operation) }
    }

    public func acquire(_ key: String, value: [UInt8], session: String) async throws(KVError) -> Bool {
        try await lockRequest(key, value: value, verb: "acquire", session: session)
    }

    public func release(_ key: String, value: [UInt8], session: String) async throws(KVError) -> Bool {
        try await lockRequest(key, value: value, verb: "release", session: session)
    }

    private func lockRequest(_ key: String, value: [UInt8], verb: String, session: String) async throws(KVError) -> Bool {
        let operation = "\(verb) \(key)"
        let reply = try await send(.PUT, path: "/v1/kv/" + Self.keyPath(key), query: [(verb, session)], body: value, operation: operation)
        guard reply.status == 200 else { throw failure(reply, operation: operation) }
        return try decodeBool(reply, operation: operation)
    }
}
