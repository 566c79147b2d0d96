import Foundation

extension ConsulClient {
    public func get(_ key: String, options: KVReadOptions) async throws(KVError) -> KVRead<KVEntry?> {
        let operation = "get \(key)"
        return try await read(key, query: [], options: options, operation: operation, missing: nil) { reply throws(KVError) in
            try decode([ConsulWire.KVPair].self, reply, operation: operation).first?.entry()
        }
    }

    public func list(prefix: String, options: KVReadOptions) async throws(KVError) -> KVRead<[KVEntry]> {
        let operation = "list \(prefix)"
        return try await read(prefix, query: [("recurse", nil)], options: options, operation: operation, missing: []) { reply throws(KVError) in
            var entries: [KVEntry] = []
            for pair in try decode([ConsulWire.KVPair].self, reply, operation: operation) { entries.append(try pair.entry()) }
            return entries
        }
    }

    public func keys(prefix: String, separator: String?, options: KVReadOptions) async throws(KVError) -> KVRead<[String]> {
        let operation = "list keys \(prefix)"
        var query: [(String, String?)] = [("keys", nil)]
        if let separator { query.append(("separator", separator)) }
        return try await read(prefix, query: query, options: options, operation: operation, missing: []) { reply throws(KVError) in
            try decode([String].self, reply, operation: operation)
        }
    }

    /// A (possibly blocking) read of `/v1/kv/<key>`: 200 is parsed, 404 gives `missing`, and
    /// either way the index headers are kept.
    private func read<Value: Sendable>(
        _ key: String, query: [(String, String?)], options: KVReadOptions, operation: String, missing: Value,
        parse: (Reply) throws(KVError) -> Value
    ) async throws(KVError) -> KVRead<Value> {
        try await blockingRead(
            path: "/v1/kv/" + Self.keyPath(key), query: query, options: options, operation: operation, missing: missing, parse: parse)
    }

    /// A (possibly blocking) GET of any endpoint: 200 is parsed; 404 gives `missing` when there
    /// is one and is a failure otherwise; the index headers are kept.
    func blockingRead<Value: Sendable>(
        path: String, query: [(String, String?)], options: KVReadOptions, operation: String, missing: Value?,
        parse: (Reply) throws(KVError) -> Value
    ) async throws(KVError) -> KVRead<Value> {
        let reply = try await send(.GET, path: path, query: query + readQuery(options), timeout: readTimeout(options), operation: operation)
        let value: Value
        switch (reply.status, missing) {
        case (200, _): value = try parse(reply)
        case (404, let missing?): value = missing
        default: throw failure(reply, operation: operation)
        }
        return KVRead(value: value, index: reply.index, knownLeader: reply.knownLeader, lastContactMilliseconds: reply.lastContact)
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

    func decodeBool(_ reply: Reply, operation: String) throws(KVError) -> Bool {
        switch reply.text {
        case "true": return true
        case "false": return false
        default: throw KVError(kind: .invalidResponse, operation: operation, message: "expected true or false, got \(reply.text.prefix(80))")
        }
    }
}
