import Foundation
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

    /// Consul takes LockDelay as a duration text ("15s") or a number of nanoseconds, and reads
    /// either below 1000 ns as seconds (people send 15 meaning 15 s).
    private struct FlexibleDuration: Decodable {
        let text: String
        let number: Double?

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let number = try? container.decode(Double.self) {
                self.number = number
                text = String(number)
            } else {
                number = nil
                text = try container.decode(String.self)
            }
        }

        var duration: Duration? {
            let parsed: Duration
            if let number {
                guard number.isFinite, number >= 0, number < 9.2e18 else { return nil }
                parsed = .nanoseconds(Int64(number))
            } else {
                guard let duration = ConsulWire.parseDuration(Substring(text)) else { return nil }
                parsed = duration
            }
            return parsed < .nanoseconds(1000) ? parsed * 1_000_000_000 : parsed
        }
    }

    /// Sessions created without a node belong to the server's own, as Consul's agent does.
    static let defaultNode = ServerStore.selfNodeName

    func respond(_ rest: String) async throws(StorageError) -> Response {
        let parts = rest.split(separator: "/", maxSplits: 1).map(String.init)
        switch (call.method, parts.first ?? "", parts.count > 1 ? parts[1] : nil) {
        case (.put, "create", nil): return try await create()
        case (.put, "destroy", let id?): return try await destroy(id)
        case (.put, "renew", let id?): return await renew(id)
        case (.put, "destroy", nil), (.put, "renew", nil), (.get, "info", nil):
            return ConsulResponse.text(.badRequest, "Missing session")
        case (.get, "node", nil):
            return ConsulResponse.text(.badRequest, "Missing node name")
        case (.get, "info", let id?):
            return await list { $0.id == id }
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
        // As Consul: a session belongs to a node the catalog knows.
        guard await call.store.nodes.contains(where: { $0.name == node }) else {
            return ConsulResponse.text(.internalServerError, "Missing node registration")
        }
        let behavior: SessionRecord.Behavior
        switch request.behavior ?? "" {
        case "", "release": behavior = .release
        case "delete": behavior = .delete
        case let other: return ConsulResponse.text(.badRequest, "Invalid Behavior setting '\(other)'")
        }
        var lockDelay = Duration.seconds(15)
        if let requested = request.lockdelay {
            guard let parsed = requested.duration else {
                return ConsulResponse.text(.badRequest, "Request decode failed: invalid LockDelay '\(requested.text)'")
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
        guard UUID(uuidString: id) != nil else {
            return ConsulResponse.text(.badRequest, "Session ID must be a valid UUID: \(id)")
        }
        guard let session = await call.store.session(id) else {
            // Consul with ACLs on names the unknown session; without, destroying nothing succeeds.
            guard !(await call.store.aclsEnabled) else { return ConsulResponse.text(.internalServerError, "Unknown session \"\(id)\"") }
            return ConsulResponse.json(true)
        }
        guard call.authorizer.allows(.session, session.node, .write) else { return call.forbidden(.session, session.node, .write) }
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

    /// Sessions the token may read (`session:read` on their node, as Consul filters them), at
    /// the index of the last session change: a KV write does not end a blocking session query.
    private func list(_ include: @escaping @Sendable (SessionRecord) -> Bool) async -> Response {
        await call.blocking(topic: .sessions) {
            let index = await call.store.sessionsIndex
            let matching = await call.store.sessions.filter(include)
            let readable = matching.filter { call.authorizer.allows(.session, $0.node, .read) }
            let response = ConsulResponse.json(readable.map(SessionJSON.init), index: index, filtered: readable.count < matching.count)
            return (response, index)
        }
    }
}
