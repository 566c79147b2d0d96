import Foundation
import Hummingbird
import KV

/// `PUT /v1/txn`: KV operations applied atomically; 409 with the failing operations otherwise.
struct TxnEndpoint {
    let store: KVStateStore
    let limits: KVServerLimits

    func respond(to request: Request) async -> Response {
        let body: [UInt8]
        switch await RequestBody.collect(request, limit: limits.maxTransactionBytes) {
        case .success(let bytes): body = bytes
        case .failure(let tooLarge):
            return ConsulResponse.text(.contentTooLarge, "Request body(\(tooLarge.size) bytes) too large, max size: \(limits.maxTransactionBytes) bytes")
        }
        let wire: [ConsulWire.TxnOperation]
        do {
            wire = try JSONDecoder().decode([ConsulWire.TxnOperation].self, from: Data(body))
        } catch {
            return ConsulResponse.text(.badRequest, "Failed to parse body: \(Self.describe(error))")
        }
        guard wire.count <= limits.maxTransactionOperations else {
            return ConsulResponse.text(
                .contentTooLarge, "Transaction contains too many operations (\(wire.count) > \(limits.maxTransactionOperations))")
        }
        var operations: [KVOperation] = []
        for (position, element) in wire.enumerated() {
            switch Self.operation(element) {
            case .success(let operation):
                if let problem = KeyRules.problem(with: operation.key, method: .get) {
                    return ConsulResponse.text(.badRequest, "Operation \(position): \(problem)")
                }
                operations.append(operation)
            case .failure(let problem):
                return ConsulResponse.text(.badRequest, "Operation \(position): \(problem.reason)")
            }
        }
        switch await store.apply(operations) {
        case .success(let entries):
            let results = entries.map { ConsulWire.TxnResult(kv: ConsulWire.KVPair($0)) }
            return ConsulResponse.json(ConsulWire.TxnResponse(results: results, errors: nil))
        case .failure(let rollback):
            let errors = rollback.failures.map { ConsulWire.TxnError(opIndex: $0.operationIndex, what: $0.reason) }
            return ConsulResponse.json(ConsulWire.TxnResponse(results: nil, errors: errors), status: .conflict)
        }
    }

    private static func operation(_ element: ConsulWire.TxnOperation) -> Result<KVOperation, TransactionOperationFailure> {
        guard let kv = element.kv else { return .failure(.init("only KV operations are supported")) }
        var value: [UInt8] = []
        if let encoded = kv.value, !encoded.isEmpty {
            guard let data = Data(base64Encoded: encoded) else { return .failure(.init("value of \(kv.key) is not valid base64")) }
            value = Array(data)
        }
        let flags = kv.flags ?? 0
        let index = kv.index ?? 0
        switch kv.verb {
        case "set": return .success(.set(key: kv.key, value: value, flags: flags))
        case "cas": return .success(.cas(key: kv.key, value: value, index: index, flags: flags))
        case "get": return .success(.get(key: kv.key))
        case "delete": return .success(.delete(key: kv.key))
        case "delete-cas": return .success(.deleteCAS(key: kv.key, index: index))
        case "delete-tree": return .success(.deleteTree(prefix: kv.key))
        case "check-index": return .success(.checkIndex(key: kv.key, index: index))
        case "check-not-exists": return .success(.checkNotExists(key: kv.key))
        case "lock": return .success(.lock(key: kv.key, value: value, session: kv.session ?? ""))
        case "unlock": return .success(.unlock(key: kv.key, value: value, session: kv.session ?? ""))
        default: return .failure(.init("unknown KV verb \(kv.verb.debugDescription)"))
        }
    }

    private static func describe(_ error: any Error) -> String {
        if let decoding = error as? DecodingError {
            switch decoding {
            case .dataCorrupted: return "malformed JSON"
            case .keyNotFound(let key, _): return "missing \(key.stringValue)"
            case .typeMismatch(_, let context): return "wrong type at \(context.codingPath.map(\.stringValue).joined(separator: "."))"
            case .valueNotFound(_, let context): return "missing value at \(context.codingPath.map(\.stringValue).joined(separator: "."))"
            @unknown default: return "unreadable"
            }
        }
        return "unreadable"
    }
}
