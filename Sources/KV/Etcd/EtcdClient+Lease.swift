/// Sessions are etcd leases and a lock is a key attached to one. What differs from Consul:
/// a lease's keys are deleted when it expires (both session behaviors), releasing deletes the
/// key, and there is no lock delay: a deposed holder's writes are refused by their compare on
/// the lease (`checkSession`), not by a pause.
extension EtcdClient: KVLocking {
    public func createSession(_ options: KVSessionOptions) async throws(KVError) -> String {
        let seconds = max(1, Int64(options.ttl.inSeconds.rounded(.up)))
        let response = try await call(
            "/v3/lease/grant", EtcdWire.LeaseGrantRequest(ttl: EtcdWire.Integer(seconds)), as: EtcdWire.LeaseGrantResponse.self,
            operation: "grant a lease for \(options.name)")
        guard let id = response.id?.value, id != 0, (response.error ?? "").isEmpty else {
            throw KVError(kind: .serverError, operation: "grant a lease for \(options.name)", message: response.error ?? "etcd granted no lease")
        }
        return EtcdLease.sessionID(id)
    }

    public func renewSession(_ id: String) async throws(KVError) -> Bool {
        let operation = "keep lease \(id) alive"
        let lease = try EtcdLease.lease(id, operation: operation)
        let reply: Reply
        do {
            reply = try await send("/v3/lease/keepalive", try encode(EtcdWire.LeaseID(id: EtcdWire.Integer(lease)), operation: operation), operation: operation)
        } catch where error.status == 404 {
            return false
        }
        // The gateway answers a keep-alive like a stream; an expired lease comes back with no TTL.
        let firstLine = Array(reply.body.split(separator: UInt8(ascii: "\n")).first ?? [])
        let message = try decode(EtcdWire.LeaseKeepAliveMessage.self, firstLine, operation: operation)
        if let error = message.error {
            if error.code == 5 { return false }
            throw KVError(kind: Self.kind(code: error.code, status: nil, message: error.text), operation: operation, message: error.text)
        }
        return (message.result?.ttl?.value ?? 0) > 0
    }

    public func destroySession(_ id: String) async throws(KVError) {
        let operation = "revoke lease \(id)"
        let lease = try EtcdLease.lease(id, operation: operation)
        do {
            _ = try await call("/v3/lease/revoke", EtcdWire.LeaseID(id: EtcdWire.Integer(lease)), as: EtcdWire.Empty.self, operation: operation)
        } catch where error.status == 404 {
            // Already expired: nothing left to end.
        }
    }

    /// Takes the key when it is absent, already ours, or present without a lease.
    public func acquire(_ key: String, value: [UInt8], session: String) async throws(KVError) -> Bool {
        let operation = "acquire \(key)"
        let lease = try EtcdLease.lease(session, operation: operation)
        let put = EtcdWire.RequestOp(put: EtcdWire.PutRequest(key: EtcdWire.Bytes(key), value: EtcdWire.Bytes(value), lease: EtcdWire.Integer(lease)))
        let first = EtcdWire.TxnRequest(
            compare: [EtcdCompare.absent(key: key)], success: [put], failure: [EtcdWire.RequestOp(range: EtcdWire.RangeRequest(key: EtcdWire.Bytes(key)))])
        let response = try await call("/v3/kv/txn", first, as: EtcdWire.TxnResponse.self, operation: operation)
        if response.succeeded == true { return true }
        let holder = response.responses?.first?.range?.kvs?.first?.lease?.value ?? 0
        guard holder == 0 || holder == lease else { return false }
        let second = EtcdWire.TxnRequest(compare: [EtcdCompare.lease(key: key, equals: holder)], success: [put], failure: [])
        return try await call("/v3/kv/txn", second, as: EtcdWire.TxnResponse.self, operation: operation).succeeded == true
    }

    /// Deletes the key if `session` holds it (`value` is not written: on etcd a free lock is an absent key).
    public func release(_ key: String, value: [UInt8], session: String) async throws(KVError) -> Bool {
        let operation = "release \(key)"
        let lease = try EtcdLease.lease(session, operation: operation)
        let request = EtcdWire.TxnRequest(
            compare: [EtcdCompare.lease(key: key, equals: lease)],
            success: [EtcdWire.RequestOp(deleteRange: EtcdWire.DeleteRangeRequest(key: EtcdWire.Bytes(key)))], failure: [])
        return try await call("/v3/kv/txn", request, as: EtcdWire.TxnResponse.self, operation: operation).succeeded == true
    }
}
