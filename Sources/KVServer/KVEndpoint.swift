import Hummingbird
import KV

/// `/v1/kv/<key>`: GET (single, recurse, keys, raw, blocking), PUT (cas, flags, acquire,
/// release), DELETE (recurse, cas). With ACLs, reads need key:read, writes key:write, and
/// listings leave out what the token may not read.
struct KVEndpoint {
    let call: ConsulCall

    private var store: ServerStore { call.store }
    private var query: QueryParameters { call.query }

    func respond(key: String) async throws(StorageError) -> Response {
        if let problem = KeyRules.problem(with: key, method: call.method) {
            return ConsulResponse.text(.badRequest, problem)
        }
        switch call.method {
        case .get: return await read(key: key)
        case .put: return try await write(key: key)
        case .delete: return try await delete(key: key)
        default: return ConsulResponse.text(.methodNotAllowed, "Method \(call.method) not allowed on /v1/kv")
        }
    }

    private func read(key: String) async -> Response {
        let isPrefix = query.has("recurse") || query.has("keys")
        if !isPrefix, !call.authorizer.allows(.key, key, .read) { return call.forbidden(.key, key, .read) }
        return await call.blocking(topic: isPrefix ? .prefix(key) : .key(key)) { await answer(key: key) }
    }

    private func answer(key: String) async -> (response: Response, index: UInt64) {
        if query.has("keys") || query.has("recurse") {
            let (all, index) = await store.list(prefix: key)
            let entries = all.filter { call.authorizer.allows(.key, $0.key, .read) }
            let filtered = entries.count != all.count
            guard !entries.isEmpty else { return (ConsulResponse.text(.notFound, "", index: index), index) }
            if query.has("recurse"), !query.has("keys") {
                return (ConsulResponse.json(entries.map { ConsulWire.KVPair($0) }, index: index, filtered: filtered), index)
            }
            return (ConsulResponse.json(names(of: entries, under: key), index: index, filtered: filtered), index)
        }
        let (entry, index) = await store.get(key)
        guard let entry else { return (ConsulResponse.text(.notFound, "", index: index), index) }
        if query.has("raw") {
            return (ConsulResponse.raw(entry.value, index: index), index)
        }
        return (ConsulResponse.json([ConsulWire.KVPair(entry)], index: index), index)
    }

    /// Key names, cut after the separator when one is given (one level of a tree).
    private func names(of entries: [KVEntry], under prefix: String) -> [String] {
        var names: [String] = []
        let separator = query["separator"].flatMap { $0.isEmpty ? nil : $0 }
        for entry in entries {
            var name = entry.key
            if let separator, let range = entry.key.dropFirst(prefix.count).range(of: separator) {
                name = String(entry.key[..<range.upperBound])
            }
            if names.last != name { names.append(name) }
        }
        return names
    }

    private func write(key: String) async throws(StorageError) -> Response {
        if ["cas", "acquire", "release"].filter(query.has).count > 1 { return ConsulResponse.conflictingFlags(call.request) }
        guard case .success(let flags) = query.unsigned("flags") else {
            return ConsulResponse.text(.badRequest, "Invalid flags: \(query["flags"] ?? "")")
        }
        guard case .success(let cas) = query.unsigned("cas") else {
            return ConsulResponse.text(.badRequest, "Invalid cas index: \(query["cas"] ?? "")")
        }
        guard call.authorizer.allows(.key, key, .write) else { return call.forbidden(.key, key, .write) }
        let body: [UInt8]
        switch await call.body(limit: call.limits.maxValueSize) {
        case .success(let bytes): body = bytes
        case .failure(let tooLarge): return ConsulResponse.tooLarge(tooLarge, limit: call.limits.maxValueSize)
        }
        if let session = query["acquire"] ?? query["release"], let denied = await sessionDenial(session) { return denied }
        if let session = query["acquire"] {
            switch try await store.acquire(key, value: body, flags: flags ?? 0, session: session) {
            case .acquired: return ConsulResponse.json(true)
            case .heldByOther: return ConsulResponse.json(false)
            case .invalidSession: return ConsulResponse.text(.internalServerError, "invalid session \"\(session)\"")
            }
        }
        if let session = query["release"] {
            return ConsulResponse.json(try await store.release(key, value: body, flags: flags ?? 0, session: session))
        }
        return ConsulResponse.json(try await store.put(key, value: body, flags: flags ?? 0, cas: cas))
    }

    /// Locking with a session needs `session:write` on the session's node besides `key:write`
    /// on the key: a token cannot tie a key to a session it could not renew or destroy itself.
    private func sessionDenial(_ id: String) async -> Response? {
        guard let session = await store.session(id), !call.authorizer.allows(.session, session.node, .write) else { return nil }
        return call.forbidden(.session, session.node, .write)
    }

    private func delete(key: String) async throws(StorageError) -> Response {
        if query.has("recurse"), query.has("cas") { return ConsulResponse.conflictingFlags(call.request) }
        if key.isEmpty, !query.has("recurse") { return ConsulResponse.text(.badRequest, "Missing key name") }
        guard case .success(let cas) = query.unsigned("cas") else {
            return ConsulResponse.text(.badRequest, "Invalid cas index: \(query["cas"] ?? "")")
        }
        if query.has("recurse") {
            guard call.authorizer.allowsWriteOfPrefix(key) else { return call.forbidden(.key, key, .write) }
            try await store.deleteTree(prefix: key)
            return ConsulResponse.json(true)
        }
        guard call.authorizer.allows(.key, key, .write) else { return call.forbidden(.key, key, .write) }
        return ConsulResponse.json(try await store.delete(key, cas: cas))
    }
}
