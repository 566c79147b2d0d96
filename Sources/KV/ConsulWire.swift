import Foundation

/// JSON shapes of Consul's HTTP API, shared by the client and `git2kv kv-server`.
public enum ConsulWire {
    /// An entry of `GET /v1/kv/<key>` (values base64, null when empty).
    public struct KVPair: Codable, Sendable, Hashable {
        public var lockIndex: UInt64
        public var key: String
        public var flags: UInt64
        public var value: String?
        public var createIndex: UInt64
        public var modifyIndex: UInt64
        public var session: String?

        enum CodingKeys: String, CodingKey {
            case lockIndex = "LockIndex", key = "Key", flags = "Flags", value = "Value"
            case createIndex = "CreateIndex", modifyIndex = "ModifyIndex", session = "Session"
        }

        public init(_ entry: KVEntry, includeValue: Bool = true) {
            lockIndex = entry.lockIndex
            key = entry.key
            flags = entry.flags
            value = includeValue && !entry.value.isEmpty ? Data(entry.value).base64EncodedString() : nil
            createIndex = entry.createIndex
            modifyIndex = entry.modifyIndex
            session = entry.session
        }

        /// Consul always writes Value (null when empty) and Session only when the key is locked.
        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(lockIndex, forKey: .lockIndex)
            try container.encode(key, forKey: .key)
            try container.encode(flags, forKey: .flags)
            try container.encode(value, forKey: .value)
            try container.encode(createIndex, forKey: .createIndex)
            try container.encode(modifyIndex, forKey: .modifyIndex)
            try container.encodeIfPresent(session, forKey: .session)
        }

        public func entry() throws(KVError) -> KVEntry {
            var bytes: [UInt8] = []
            if let value, !value.isEmpty {
                guard let data = Data(base64Encoded: value) else {
                    throw KVError(kind: .invalidResponse, operation: "read \(key)", message: "value is not valid base64")
                }
                bytes = Array(data)
            }
            return KVEntry(
                key: key, value: bytes, flags: flags, createIndex: createIndex, modifyIndex: modifyIndex,
                lockIndex: lockIndex, session: session)
        }
    }

    /// One element of a `PUT /v1/txn` body. Only KV operations are used by git2kv.
    public struct TxnOperation: Codable, Sendable {
        public var kv: TxnKV?

        enum CodingKeys: String, CodingKey { case kv = "KV" }

        public init(kv: TxnKV?) { self.kv = kv }
    }

    public struct TxnKV: Codable, Sendable {
        public var verb: String
        public var key: String
        public var value: String?
        public var flags: UInt64?
        public var index: UInt64?
        public var session: String?

        enum CodingKeys: String, CodingKey {
            case verb = "Verb", key = "Key", value = "Value", flags = "Flags", index = "Index", session = "Session"
        }

        public init(verb: String, key: String, value: String? = nil, flags: UInt64? = nil, index: UInt64? = nil, session: String? = nil) {
            self.verb = verb
            self.key = key
            self.value = value
            self.flags = flags
            self.index = index
            self.session = session
        }
    }

    public struct TxnResponse: Codable, Sendable {
        public var results: [TxnResult]?
        public var errors: [TxnError]?

        enum CodingKeys: String, CodingKey { case results = "Results", errors = "Errors" }

        public init(results: [TxnResult]?, errors: [TxnError]?) {
            self.results = results
            self.errors = errors
        }

        /// Consul writes both fields, one of them null.
        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(results, forKey: .results)
            try container.encode(errors, forKey: .errors)
        }
    }

    public struct TxnResult: Codable, Sendable {
        public var kv: KVPair?

        enum CodingKeys: String, CodingKey { case kv = "KV" }

        public init(kv: KVPair?) { self.kv = kv }
    }

    public struct TxnError: Codable, Sendable {
        public var opIndex: Int
        public var what: String

        enum CodingKeys: String, CodingKey { case opIndex = "OpIndex", what = "What" }

        public init(opIndex: Int, what: String) {
            self.opIndex = opIndex
            self.what = what
        }
    }

    /// The wire form of a transaction operation.
    public static func txnOperation(_ operation: KVOperation) -> TxnOperation {
        func base64(_ bytes: [UInt8]) -> String { Data(bytes).base64EncodedString() }
        let kv: TxnKV
        switch operation {
        case .set(let key, let value, let flags): kv = TxnKV(verb: "set", key: key, value: base64(value), flags: flags)
        case .cas(let key, let value, let index, let flags):
            kv = TxnKV(verb: "cas", key: key, value: base64(value), flags: flags, index: index)
        case .get(let key): kv = TxnKV(verb: "get", key: key)
        case .delete(let key): kv = TxnKV(verb: "delete", key: key)
        case .deleteCAS(let key, let index): kv = TxnKV(verb: "delete-cas", key: key, index: index)
        case .deleteTree(let prefix): kv = TxnKV(verb: "delete-tree", key: prefix)
        case .checkIndex(let key, let index): kv = TxnKV(verb: "check-index", key: key, index: index)
        case .checkNotExists(let key): kv = TxnKV(verb: "check-not-exists", key: key)
        case .checkSession(let key, let session): kv = TxnKV(verb: "check-session", key: key, session: session)
        case .lock(let key, let value, let session): kv = TxnKV(verb: "lock", key: key, value: base64(value), session: session)
        case .unlock(let key, let value, let session): kv = TxnKV(verb: "unlock", key: key, value: base64(value), session: session)
        }
        return TxnOperation(kv: kv)
    }

    /// Parses a wait duration as Consul writes them: "10s", "500ms", "5m", "1h", "1m30s".
    public static func parseDuration(_ text: Substring) -> Duration? {
        var total = Duration.zero
        var rest = text
        guard !rest.isEmpty else { return nil }
        while !rest.isEmpty {
            let digits = rest.prefix { $0.isNumber || $0 == "." }
            guard !digits.isEmpty, let number = Double(digits) else { return nil }
            rest = rest.dropFirst(digits.count)
            let unit = rest.prefix { $0.isLetter }
            rest = rest.dropFirst(unit.count)
            let scale: Double
            switch unit {
            case "ns": scale = 1e-9
            case "us", "µs": scale = 1e-6
            case "ms": scale = 1e-3
            case "s", "": scale = 1
            case "m": scale = 60
            case "h": scale = 3600
            default: return nil
            }
            total += .nanoseconds(Int64(number * scale * 1e9))
        }
        return total
    }

    /// Formats a wait duration for a query string, in milliseconds.
    public static func formatDuration(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        return "\(max(1, seconds * 1000 + attoseconds / 1_000_000_000_000_000))ms"
    }

    /// Whole seconds in Consul's text form: "10s".
    public static func formatSeconds(_ duration: Duration) -> String {
        "\(duration.components.seconds)s"
    }
}
