extension EtcdClient {
    /// Keys per page of a range read, so that a large prefix is never one huge answer.
    static let pageSize: Int64 = 256

    public func get(_ key: String, options: KVReadOptions) async throws(KVError) -> KVRead<KVEntry?> {
        let read = try await read(EtcdRange(key: key), keysOnly: false, options: options, operation: "get \(key)")
        return KVRead(value: read.value.first, index: read.index)
    }

    public func list(prefix: String, options: KVReadOptions) async throws(KVError) -> KVRead<[KVEntry]> {
        try await read(EtcdRange(prefix: prefix), keysOnly: false, options: options, operation: "list \(prefix)")
    }

    public func keys(prefix: String, separator: String?, options: KVReadOptions) async throws(KVError) -> KVRead<[String]> {
        let read = try await read(EtcdRange(prefix: prefix), keysOnly: true, options: options, operation: "list keys \(prefix)")
        var names = read.value.map(\.key)
        if let separator, !separator.isEmpty {
            // Consul's separator: a name is cut after the first separator past the prefix.
            var seen = Set<String>()
            names = names.compactMap { name in
                let rest = name.dropFirst(prefix.count)
                let cut = rest.range(of: separator).map { prefix + rest[..<$0.upperBound] } ?? name
                return seen.insert(cut).inserted ? cut : nil
            }
        }
        return KVRead(value: names, index: read.index)
    }

    public func put(_ key: String, value: [UInt8], flags: UInt64, cas: UInt64?) async throws(KVError) -> Bool {
        let operation = "put \(key)"
        guard flags == 0 else { throw KVError(kind: .invalidRequest, operation: operation, message: "etcd keys carry no flags") }
        guard value.count <= limits.maxValueSize else {
            throw KVError(kind: .tooLarge, operation: operation, message: "value of \(value.count) bytes exceeds the limit of \(limits.maxValueSize)")
        }
        let put = EtcdWire.PutRequest(key: EtcdWire.Bytes(key), value: EtcdWire.Bytes(value))
        guard let cas else {
            _ = try await call("/v3/kv/put", put, as: EtcdWire.Empty.self, operation: operation)
            return true
        }
        let request = EtcdWire.TxnRequest(compare: [EtcdCompare.modifyIndex(key: key, equals: cas)], success: [EtcdWire.RequestOp(put: put)], failure: [])
        return try await call("/v3/kv/txn", request, as: EtcdWire.TxnResponse.self, operation: operation).succeeded == true
    }

    public func delete(_ key: String, cas: UInt64?) async throws(KVError) -> Bool {
        let operation = "delete \(key)"
        let delete = EtcdWire.DeleteRangeRequest(key: EtcdWire.Bytes(key))
        guard let cas else {
            _ = try await call("/v3/kv/deleterange", delete, as: EtcdWire.DeleteRangeResponse.self, operation: operation)
            return true
        }
        let request = EtcdWire.TxnRequest(
            compare: [EtcdCompare.modifyIndex(key: key, equals: cas)], success: [EtcdWire.RequestOp(deleteRange: delete)], failure: [])
        return try await call("/v3/kv/txn", request, as: EtcdWire.TxnResponse.self, operation: operation).succeeded == true
    }

    public func deleteTree(prefix: String) async throws(KVError) {
        let operation = "delete tree \(prefix)"
        guard prefix.hasSuffix("/") else {
            throw KVError(kind: .invalidRequest, operation: operation, message: "a recursive delete needs a prefix ending in / (\(prefix) would also take its siblings)")
        }
        let range = EtcdRange(prefix: prefix)
        _ = try await call(
            "/v3/kv/deleterange", EtcdWire.DeleteRangeRequest(key: EtcdWire.Bytes(range.key), rangeEnd: range.end.map(EtcdWire.Bytes.init)),
            as: EtcdWire.DeleteRangeResponse.self, operation: operation)
    }

    // MARK: Reads

    /// A read that blocks like a Consul blocking query when `options.waitIndex` is set: it
    /// watches the range from the revision after the index and reads again once something in
    /// it changed, or when the wait ran out (then the index comes back unchanged).
    ///
    /// The index is the newest mod revision among the keys, or the revision of the change that
    /// woke the watch if that is newer (a deletion), or etcd's current revision when the range is
    /// empty or history was compacted. So a prefix's index moves only when something under it
    /// changes, as with Consul.
    private func read(_ range: EtcdRange, keysOnly: Bool, options: KVReadOptions, operation: String) async throws(KVError) -> KVRead<[KVEntry]> {
        let serializable = options.consistency == .stale
        guard let waitIndex = options.waitIndex, waitIndex > 0 else {
            let snapshot = try await self.range(range, keysOnly: keysOnly, revision: nil, serializable: serializable, operation: operation)
            return KVRead(value: snapshot.entries, index: snapshot.index)
        }
        let change = try await waitForChange(in: range, after: waitIndex, wait: options.waitTime ?? .seconds(300), operation: operation)
        switch change {
        case .timedOut:
            let snapshot = try await self.range(range, keysOnly: keysOnly, revision: nil, serializable: serializable, operation: operation)
            return KVRead(value: snapshot.entries, index: waitIndex)
        case .changed(let revision, let latest):
            // A single key's event carries its value: no second request. (A deleted key has none.)
            if range.end == nil, !keysOnly, let latest, let pair = latest.kv {
                return KVRead(value: latest.isDelete ? [] : [Self.entry(pair)], index: UInt64(revision))
            }
            // For a range, the newest values, not those at `revision`: after a burst a watcher
            // jumps to the end instead of walking through every intermediate write.
            let snapshot = try await self.range(range, keysOnly: keysOnly, revision: nil, serializable: serializable, operation: operation)
            return KVRead(value: snapshot.entries, index: max(UInt64(revision), snapshot.index))
        case .compacted:
            let snapshot = try await self.range(range, keysOnly: keysOnly, revision: nil, serializable: serializable, operation: operation)
            return KVRead(value: snapshot.entries, index: snapshot.revision)
        }
    }

    struct Snapshot {
        var entries: [KVEntry] = []
        /// etcd's revision when the range was read.
        var revision: UInt64 = 0

        /// The newest mod revision in the range, or the store's revision for an empty range.
        var index: UInt64 { entries.map(\.modifyIndex).max() ?? revision }
    }

    /// Reads a range in pages, every page at the revision of the first.
    func range(_ range: EtcdRange, keysOnly: Bool, revision: Int64?, serializable: Bool, operation: String) async throws(KVError) -> Snapshot {
        var snapshot = Snapshot()
        var start = range.key
        var pinned = revision
        while true {
            let request = EtcdWire.RangeRequest(
                key: EtcdWire.Bytes(start), rangeEnd: range.end.map(EtcdWire.Bytes.init),
                limit: range.end == nil ? nil : EtcdWire.Integer(Self.pageSize), revision: pinned.map(EtcdWire.Integer.init),
                serializable: serializable ? true : nil, keysOnly: keysOnly ? true : nil)
            let response = try await call("/v3/kv/range", request, as: EtcdWire.RangeResponse.self, operation: operation)
            let headerRevision = response.header?.revision?.value ?? 0
            if pinned == nil {
                pinned = headerRevision
                snapshot.revision = UInt64(max(headerRevision, 0))
            } else if snapshot.revision == 0 {
                snapshot.revision = UInt64(max(headerRevision, 0))
            }
            let page = response.kvs ?? []
            snapshot.entries += page.map(Self.entry)
            guard response.more == true, let last = page.last else { return snapshot }
            start = last.key.bytes + [0]
        }
    }

    static func entry(_ pair: EtcdWire.KeyValue) -> KVEntry {
        let lease = pair.lease?.value ?? 0
        return KVEntry(
            key: String(decoding: pair.key.bytes, as: UTF8.self), value: pair.value?.bytes ?? [], flags: 0,
            createIndex: UInt64(max(pair.createRevision?.value ?? 0, 0)), modifyIndex: UInt64(max(pair.modRevision?.value ?? 0, 0)),
            lockIndex: 0, session: lease == 0 ? nil : EtcdLease.sessionID(lease))
    }
}

/// A key or every key under a prefix, as etcd ranges them.
struct EtcdRange: Sendable {
    var key: [UInt8]
    /// nil for a single key.
    var end: [UInt8]?

    init(key: String) {
        self.key = Array(key.utf8)
        end = nil
    }

    init(prefix: String) {
        // The empty prefix is etcd's "every key": from "\0" to the end.
        key = prefix.isEmpty ? [0] : Array(prefix.utf8)
        end = EtcdWire.prefixEnd(Array(prefix.utf8))
    }
}

/// The compares git2kv guards writes with.
enum EtcdCompare {
    /// Consul's CAS index: 0 means "the key does not exist", anything else its modify index.
    static func modifyIndex(key: String, equals index: UInt64) -> EtcdWire.Compare {
        index == 0
            ? EtcdWire.Compare(key: EtcdWire.Bytes(key), target: .version, version: EtcdWire.Integer(0))
            : EtcdWire.Compare(key: EtcdWire.Bytes(key), target: .mod, modRevision: EtcdWire.Integer(Int64(clamping: index)))
    }

    static func absent(key: String) -> EtcdWire.Compare {
        EtcdWire.Compare(key: EtcdWire.Bytes(key), target: .version, version: EtcdWire.Integer(0))
    }

    static func lease(key: String, equals lease: Int64) -> EtcdWire.Compare {
        EtcdWire.Compare(key: EtcdWire.Bytes(key), target: .lease, lease: EtcdWire.Integer(lease))
    }
}

/// Sessions are leases; their IDs are shown in hex, as etcdctl shows them.
enum EtcdLease {
    static func sessionID(_ lease: Int64) -> String { String(UInt64(bitPattern: lease), radix: 16) }

    static func lease(_ session: String, operation: String) throws(KVError) -> Int64 {
        guard let value = UInt64(session, radix: 16), value != 0 else {
            throw KVError(kind: .invalidRequest, operation: operation, message: "\(session.debugDescription) is not an etcd lease ID")
        }
        return Int64(bitPattern: value)
    }
}
