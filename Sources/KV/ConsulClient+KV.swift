import Foundation

extension ConsulClient {
    public func get(_ key: String, options: KVReadOptions) async throws(KVError) -> KVRead<KVEntry?> {
        let operation = "get \(key)"
        let reply = try await send(
            .GET, path: "/v1/kv/" + Self.keyPath(key), query: readQuery(options), timeout: readTimeout(options), operation: operation)
        switch reply.status {
        case 200:
            let pairs = try decode([ConsulWire.KVPair].self, reply, operation: operation)
            return KVRead(value: try pairs.first?.entry(), index: reply.index, knownLeader: reply.knownLeader, lastContactMilliseconds: reply.lastContact)
        case 404:
            return KVRead(value: nil, index: reply.index, knownLeader: reply.knownLeader, lastContactMilliseconds: reply.lastContact)
        default:
            throw failure(reply, operation: operation)
        }
    }

    public func list(prefix: String, options: KVReadOptions) async throws(KVError) -> KVRead<[KVEntry]> {
        let operation = "list \(prefix)"
        let reply = try await send(
            .GET, path: "/v1/kv/" + Self.keyPath(prefix), query: [("recurse", nil)] + readQuery(options),
            timeout: readTimeout(options), operation: operation)
        switch reply.status {
        case 200:
            let pairs = try decode([ConsulWire.KVPair].self, reply, operation: operation)
            var entries: [KVEntry] = []
            for pair in pairs { entries.append(try pair.entry()) }
            return KVRead(value: entries, index: reply.index, knownLeader: reply.knownLeader, lastContactMilliseconds: reply.lastContact)
        case 404:
            return KVRead(value: [], index: reply.index, knownLeader: reply.knownLeader, lastContactMilliseconds: reply.lastContact)
        default:
            throw failure(reply, operation: operation)
        }
    }

    public func keys(prefix: String, separator: String?, options: KVReadOptions) async throws(KVError) -> KVRead<[String]> {
        let operation = "list keys \(prefix)"
        var query: [(String, String?)] = [("keys", nil)]
        if let separator { query.append(("separator", separator)) }
        let reply = try await send(
            .GET, path: "/v1/kv/" + Self.keyPath(prefix), query: query + readQuery(options), timeout: readTimeout(options),
            operation: operation)
        switch reply.status {
        case 200:
            return KVRead(value: try decode([String].self, reply, operation: operation), index: reply.index, knownLeader: reply.knownLeader, lastContactMilliseconds: reply.lastContact)
        case 404:
            return KVRead(value: [], index: reply.index, knownLeader: reply.knownLeader, lastContactMilliseconds: reply.lastContact)
        default:
            throw failure(reply, operation: operation)
        }
    }

    public func put(_ key: String, value: [UInt8], flags: UInt64, cas: UInt64?) async throws(KVError) -> Bool {
        let operation = "put \(key)"
        guard value.count <= limits.maxValueSize else {
            throw KVError(kind: .tooLarge, operation: operation, message: "value of \(value.count) bytes exceeds the limit of \(limits.maxValueSize)")
        }
        var query: [(String, String?)] = []
        if flags != 0 { query.append(("flags", String(flags))) }
        if let cas { query.append(("cas", String(cas))) }
        let reply = try await send(.PUT, path: "/v1/kv/" + Self.keyPath(key), query: query, body: value, operation: operation)
        guard reply.status == 200 else { throw failure(reply, operation: operation) }
        return try decodeBool(reply, operation: operation)
    }

    public func delete(_ key: String, cas: UInt64?) async throws(KVError) -> Bool {
        let operation = "delete \(key)"
        let reply = try await send(.DELETE, path: "/v1/kv/" + Self.keyPath(key), query: cas.map { [("cas", String($0))] } ?? [], operation: operation)
        guard reply.status == 200 else { throw failure(reply, operation: operation) }
        return try decodeBool(reply, operation: operation)
    }

    public func deleteTree(prefix: String) async throws(KVError) {
        let operation = "delete tree \(prefix)"
        guard prefix.hasSuffix("/"), prefix.count > 1 else {
            throw KVError(kind: .invalidRequest, operation: operation, message: "a recursive delete needs a prefix ending in /, so that siblings sharing its start are never deleted")
        }
        let reply = try await send(.DELETE, path: "/v1/kv/" + Self.keyPath(prefix), query: [("recurse", nil)], operation: operation)
        guard reply.status == 200 else { throw failure(reply, operation: operation) }
    }

    func decode<Value: Decodable>(_ type: Value.Type, _ reply: Reply, operation: String) throws(KVError) -> Value {
        do {
            return try JSONDecoder().decode(type, from: Data(reply.body))
        } catch {
            throw KVError(kind: .invalidResponse, operation: operation, message: "cannot parse the answer: \(error)")
        }
    }

    private func decodeBool(_ reply: Reply, operation: String) throws(KVError) -> Bool {
        switch reply.text {
        case "true": return true
        case "false": return false
        default: throw KVError(kind: .invalidResponse, operation: operation, message: "expected true or false, got \(reply.text.prefix(80))")
        }
    }
}
