import Hummingbird
import KV

/// `/v1/session/`: create, destroy/<id>, renew/<id>, info/<id>, list, node/<node>.
struct SessionEndpoint {
    let call: ConsulCall

    private struct CreateRequest: Decodable {
        var name: String?
        var node: String?
        var behavior: String?
        var ttl: String?
        var lockdelay: FlexibleDuration?
    }

    /// Consul takes LockDelay as "15s" or as a number of nanoseconds.
    private struct FlexibleDuration: Decodable {
        let text: String

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let number = try? container.decode(Int64.self) {
                text = "\(number)ns"
            } else {
                text = try container.decode(String.self)
            }
        }
    }

    static let defaultNode = "git2kv-kv-server"

    func respond(_ rest: String) async throws(StorageError) -> Response {
        let parts = rest.split(separator: "/", maxSplits: 1).map(String.init)
        switch (call.method, parts.first ?? "", parts.count > 1 ? parts[1] : nil) {
        case (.put, "create", nil): return try await create()
        case (.put, "destroy", let id?): return try await destroy(id)
        case (.put, "renew", let id?): return await renew(id)
        case (.get, "info", let id?):
            return await call.blocking(topic: .sessions) {
                let index = await call.store.currentIndex
                let found = await call.store.session(id).map { [SessionJSON(session: $0)] } ?? []
                return (ConsulResponse.json(found, index: index), index)
            }
        case (.get, "list", nil):
            return await list { _ in true }
        case (.get, "node", let node?):
            return await list { $0.node == node }
        default:
            return ConsulResponse.text(.notFound, "Not found: \(call.method) /v1/session/\(rest)")
        }
    }

    private func create() async throws(StorageError) -> Response {
        let request: CreateRequest
        switch await call.decodeBody(CreateRequest.self, limit: 64 * 1024) {
        case .success(let decoded): request = decoded
        case .failure(let error): return error.response
        }
        let node = request.node.flatMap { $0.isEmpty ? nil : $0 } ?? Self.defaultNode
        guard call.authorizer.allows(.session, node, .write) else { return call.forbidden(.session, node, .write) }
        let behavior: SessionRecord.Behavior
        switch request.behavior ?? "" {
        case "", "release": behavior = .release
        case "delete": behavior = .delete
        case let other: return ConsulResponse.text(.badRequest, "Invalid Behavior setting '\(other)'")
        }
        var lockDelay = Duration.seconds(15)
        if let text = request.lockdelay?.text {
            guard let parsed = ConsulWire.parseDuration(Substring(text)) else {
                return ConsulResponse.text(.badRequest, "Invalid LockDelay '\(text)'")
            }
            lockDelay = parsed
        }
        var ttl = ""
        if let text = request.ttl, !text.isEmpty {
            guard let parsed = ConsulWire.parseDuration(Substring(text)) else {
                return ConsulResponse.text(.badRequest, "Request decode failed: invalid TTL '\(text)'")
            }
            let limits = call.limits
            guard parsed == .zero || (parsed >= limits.minSessionTTL && parsed <= limits.maxSessionTTL) else {
                return ConsulResponse.text(
                    .badRequest,
                    "Invalid Session TTL '\(text)', must be between [\(ConsulWire.formatSeconds(limits.minSessionTTL))=\(ConsulWire.formatSeconds(limits.maxSessionTTL))]")
            }
            if parsed > .zero { ttl = text }
        }
        let session = try await call.store.createSession(
            name: request.name ?? "", node: node, behavior: behavior, lockDelay: lockDelay, ttl: ttl)
        return ConsulResponse.json(["ID": session.id])
    }

    private func destroy(_ id: String) async throws(StorageError) -> Response {
        if let session = await call.store.session(id), !call.authorizer.allows(.session, session.node, .write) {
            return call.forbidden(.session, session.node, .write)
        }
        try await call.store.destroySession(id)
        return ConsulResponse.json(true)
    }

    private func renew(_ id: String) async -> Response {
        if let session = await call.store.session(id), !call.authorizer.allows(.session, session.node, .write) {
            return call.forbidden(.session, session.node, .write)
        }
        guard let session = await call.store.renewSession(id) else {
            return ConsulResponse.text(.notFound, "Session id '\(id)' not found")
        }
        return ConsulResponse.json([SessionJSON(session: session)])
    }

    private func list(_ include: @escaping @Sendable (SessionRecord) -> Bool) async -> Response {
        await call.blocking(topic: .sessions) {
            let index = await call.store.currentIndex
            let sessions = await call.store.sessions.filter { include($0) && call.authorizer.allows(.session, $0.node, .read) }
            return (ConsulResponse.json(sessions.map(SessionJSON.init), index: index), index)
        }
    }
}
