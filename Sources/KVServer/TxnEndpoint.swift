import Foundation
import Hummingbird
import KV

/// `PUT /v1/txn`: KV operations applied atomically; 409 with the failing operations otherwise
/// (including operations the token may not perform, as Consul reports them).
struct TxnEndpoint {
    let call: ConsulCall

    func respond() async throws(StorageError) -> Response {
        let limits = call.limits
        let body: [UInt8]
        switch await call.body(limit: limits.maxTransactionBytes) {
        case .success(let bytes): body = bytes
        case .failure(let tooLarge): return ConsulResponse.tooLarge(tooLarge, limit: limits.maxTransactionBytes)
        }
        let wire: [ConsulWire.TxnOperation]
        do {
            wire = try JSONDecoder().decode([ConsulWire.TxnOperation].self, from: Data(body))
        } catch {
            return ConsulResponse.text(.badRequest, "Failed to parse body: \(RequestJSONError(error))")
        }
        guard wire.count <= limits.maxTransactionOperations else {
            return ConsulResponse.text(
                .contentTooLarge, "Transaction contains too many operations (\(wire.count) > \(limits.maxTransactionOperations))")
        }
        var operations: [ServerTxnOperation] = []
        var denied: [ConsulWire.TxnError] = []
        for (position, element) in wire.enumerated() {
            switch Self.operation(element) {
            case .success(let operation):
                if let problem = KeyRules.problem(with: operation.key, method: .get) {
                    return ConsulResponse.text(.badRequest, "Operation \(position): \(problem)")
                }
                if !(await allowed(operation)) { denied.append(.init(opIndex: position, what: "Permission denied")) }
                operations.append(operation)
            case .failure(let problem):
                return ConsulResponse.text(.badRequest, "Operation \(position): \(problem.reason)")
            }
        }
        guard denied.isEmpty else {
            return ConsulResponse.json(ConsulWire.TxnResponse(results: nil, errors: denied), status: .conflict)
        }
        switch try await call.store.apply(operations) {
        case .success(let (entries, index)):
            // A tree read answers only the keys the token may read (Consul filters reads on the way out).
            let readable = entries.filter { call.authorizer.allows(.key, $0.key, .read) }
            let results = readable.map { ConsulWire.TxnResult(kv: ConsulWire.KVPair($0)) }
            return ConsulResponse.json(ConsulWire.TxnResponse(results: results, errors: nil), index: index)
        case .failure(let rollback):
            let errors = rollback.failures.map { ConsulWire.TxnError(opIndex: $0.operationIndex, what: $0.reason) }
            return ConsulResponse.json(ConsulWire.TxnResponse(results: nil, errors: errors), status: .conflict)
        }
    }

    private func allowed(_ operation: ServerTxnOperation) async -> Bool {
        switch operation {
        case .getTree: return true
        case .getOrEmpty(let key): return call.authorizer.allows(.key, key, .read)
        case .kv(let operation): return await allowed(operation)
        }
    }

    private func allowed(_ operation: KVOperation) async -> Bool {
        switch operation {
        case .deleteTree(let prefix): return call.authorizer.allowsWriteOfPrefix(prefix)
        case .lock(let key, _, let session), .unlock(let key, _, let session):
            // As for ?acquire: the token must also be able to write the session it locks with.
            guard call.authorizer.allows(.key, key, .write) else { return false }
            guard let node = await call.store.session(session)?.node else { return true }
            return call.authorizer.allows(.session, node, .write)
        default: return call.authorizer.allows(.key, operation.key, operation.isWrite ? .write : .read)
        }
    }

    private static func operation(_ element: ConsulWire.TxnOperation) -> Result<ServerTxnOperation, TransactionOperationFailure> {
        guard let kv = element.kv else {
            return .failure(.init("Node, Service, Check and Session operations are not supported by git2kv kv-server: only KV operations are"))
        }
        var value: [UInt8] = []
        if let encoded = kv.value, !encoded.isEmpty {
            guard let data = Data(base64Encoded: encoded) else { return .failure(.init("value of \(kv.key) is not valid base64")) }
            value = Array(data)
        }
        let flags = kv.flags ?? 0
        let index = kv.index ?? 0
        switch kv.verb {
        case "set": return .success(.kv(.set(key: kv.key, value: value, flags: flags)))
        case "cas": return .success(.kv(.cas(key: kv.key, value: value, index: index, flags: flags)))
        case "get": return .success(.kv(.get(key: kv.key)))
        case "delete": return .success(.kv(.delete(key: kv.key)))
        case "delete-cas": return .success(.kv(.deleteCAS(key: kv.key, index: index)))
        case "delete-tree": return .success(.kv(.deleteTree(prefix: kv.key)))
        case "check-index": return .success(.kv(.checkIndex(key: kv.key, index: index)))
        case "check-not-exists": return .success(.kv(.checkNotExists(key: kv.key)))
        case "check-session": return .success(.kv(.checkSession(key: kv.key, session: kv.session ?? "")))
        case "lock": return .success(.kv(.lock(key: kv.key, value: value, session: kv.session ?? "")))
        case "unlock": return .success(.kv(.unlock(key: kv.key, value: value, session: kv.session ?? "")))
        case "get-tree": return .success(.getTree(prefix: kv.key))
        case "get-or-empty": return .success(.getOrEmpty(key: kv.key))
        default: return .failure(.init("unknown KV verb \(kv.verb.debugDescription)"))
        }
    }
}
