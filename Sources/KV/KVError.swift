/// A KV failure, in words an operator understands: what happened, where, and to which key.
/// Tokens never appear in it.
public struct KVError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable, Equatable {
        /// The token may not do this (HTTP 403).
        case permissionDenied
        /// A value or request over the store's size limit (HTTP 413).
        case tooLarge
        /// A transaction was rolled back; `failures` says which operations and why (HTTP 409).
        case transactionFailed
        /// More operations than one transaction may hold.
        case tooManyOperations
        /// The store refused the request as malformed (HTTP 400), for example an invalid key.
        case badRequest
        /// Nothing answered at the address.
        case connectionFailed
        /// The request took longer than allowed.
        case timeout
        /// The request was abandoned because this process is stopping (or the task was cancelled).
        case cancelled
        /// The cluster has no leader (HTTP 500 "No cluster leader").
        case noLeader
        /// The store answered with an unexpected status.
        case serverError
        /// The store's answer could not be understood.
        case invalidResponse
        /// The ACL token could not be read (missing file, unset variable).
        case tokenUnavailable
        /// A request git2kv refuses to send, for example a recursive delete of a prefix without `/`.
        case invalidRequest
    }

    public let kind: Kind
    /// What was being done: "put config/apps/web", "txn of 3 operations".
    public let operation: String
    public let message: String
    public let failures: [KVTransactionFailure]
    public let status: Int?

    public init(kind: Kind, operation: String, message: String, failures: [KVTransactionFailure] = [], status: Int? = nil) {
        self.kind = kind
        self.operation = operation
        self.message = message
        self.failures = failures
        self.status = status
    }

    public var description: String {
        var text = "kv: \(operation): \(message)"
        if let status { text += " (HTTP \(status))" }
        if !failures.isEmpty { text += " [" + failures.map(\.description).joined(separator: "; ") + "]" }
        return text
    }
}
