import Hummingbird
import KV

/// `/v1/kv/<key>`: GET (single, recurse, keys, raw, blocking), PUT (cas, flags), DELETE (recurse, cas).
struct KVEndpoint {
    let store: KVStateStore
    let limits: KVServerLimits

    func respond(to request: Request, key: String) async -> Response {
        let query = QueryParameters(request)
        if let problem = KeyRules.problem(with: key, method: request.method) {
            return ConsulResponse.text(.badRequest, problem)
        }
        switch request.method {
        case .get: return await read(key: key, query: query)
        case .put: return await write(request, key: key, query: query)
        case .delete: return await delete(key: key, query: query)
        default: return ConsulResponse.text(.methodNotAllowed, "Method \(request.method) not allowed on /v1/kv")
        }
    }

    private func read(key: String, query: QueryParameters) async -> Response {
        guard case .success(let waitIndex) = query.unsigned("index") else {
            return ConsulResponse.text(.badRequest, "Invalid index: \(query["index"] ?? "")")
        }
        var wait = limits.defaultWait
        if let text = query["wait"] {
            guard let parsed = ConsulWire.parseDuration(Substring(text)) else {
                return ConsulResponse.text(.badRequest, "Invalid wait time: \(text)")
            }
            wait = min(parsed, limits.maxWait)
        }
        let isPrefix = query.has("recurse") || query.has("keys")
        let jitter = Duration.nanoseconds(Int64.random(in: 0...max(1, (wait / 16).nanosecondsValue)))
        let deadline = ContinuousClock.now + wait + jitter
        while true {
            let response = await answer(key: key, query: query)
            guard let waitIndex, waitIndex > 0, response.index <= waitIndex, ContinuousClock.now < deadline else {
                return response.response
            }
            await store.waitForChange(of: key, prefix: isPrefix, until: deadline)
        }
    }

    private func answer(key: String, query: QueryParameters) async -> (response: Response, index: UInt64) {
        if query.has("keys") {
            let (entries, index) = await store.list(prefix: key)
            var names: [String] = []
            let separator = query["separator"].flatMap { $0.isEmpty ? nil : $0 }
            for entry in entries {
                var name = entry.key
                if let separator, let range = entry.key.dropFirst(key.count).range(of: separator) {
                    name = String(entry.key[..<range.upperBound])
                }
                if names.last != name { names.append(name) }
            }
            if names.isEmpty { return (ConsulResponse.text(.notFound, "", index: index), index) }
            return (ConsulResponse.json(names, index: index), index)
        }
        if query.has("recurse") {
            let (entries, index) = await store.list(prefix: key)
            if entries.isEmpty { return (ConsulResponse.text(.notFound, "", index: index), index) }
            return (ConsulResponse.json(entries.map { ConsulWire.KVPair($0) }, index: index), index)
        }
        let (entry, index) = await store.get(key)
        guard let entry else { return (ConsulResponse.text(.notFound, "", index: index), index) }
        if query.has("raw") {
            return (ConsulResponse.bytes(entry.value, contentType: "application/octet-stream", index: index), index)
        }
        return (ConsulResponse.json([ConsulWire.KVPair(entry)], index: index), index)
    }

    private func write(_ request: Request, key: String, query: QueryParameters) async -> Response {
        guard case .success(let flags) = query.unsigned("flags") else {
            return ConsulResponse.text(.badRequest, "Invalid flags: \(query["flags"] ?? "")")
        }
        guard case .success(let cas) = query.unsigned("cas") else {
            return ConsulResponse.text(.badRequest, "Invalid cas index: \(query["cas"] ?? "")")
        }
        if query.has("acquire") || query.has("release") {
            return ConsulResponse.text(.badRequest, "sessions are not supported by this server yet")
        }
        let body: [UInt8]
        switch await RequestBody.collect(request, limit: limits.maxValueSize) {
        case .success(let bytes): body = bytes
        case .failure(let tooLarge):
            return ConsulResponse.text(.contentTooLarge, "Request body(\(tooLarge.size) bytes) too large, max size: \(limits.maxValueSize) bytes")
        }
        let written = await store.put(key, value: body, flags: flags ?? 0, cas: cas)
        return ConsulResponse.json(written)
    }

    private func delete(key: String, query: QueryParameters) async -> Response {
        guard case .success(let cas) = query.unsigned("cas") else {
            return ConsulResponse.text(.badRequest, "Invalid cas index: \(query["cas"] ?? "")")
        }
        if query.has("recurse") {
            await store.deleteTree(prefix: key)
            return ConsulResponse.json(true)
        }
        return ConsulResponse.json(await store.delete(key, cas: cas))
    }
}

extension Duration {
    var nanosecondsValue: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
