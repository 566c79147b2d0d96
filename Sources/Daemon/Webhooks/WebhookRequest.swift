/// A webhook as received: its headers (names lowercased) and body.
public struct WebhookRequest: Sendable {
    public var headers: [String: String]
    public var body: [UInt8]

    public init(headers: [String: String], body: [UInt8]) {
        var lowered: [String: String] = [:]
        for (name, value) in headers { lowered[name.lowercased()] = value }
        self.headers = lowered
        self.body = body
    }

    public func header(_ name: String) -> String? { headers[name.lowercased()] }
}

/// The references a push changed.
public struct PushEvent: Sendable, Equatable {
    public var branches: [String]
    public var tags: [String]
    /// Sync every reference of the repo (a generic hook without a body).
    public var everything: Bool
    /// The new head of each pushed branch, when the provider says (GitHub's `after`): a push
    /// whose head is already live triggers nothing.
    public var heads: [String: String]

    public init(branches: [String] = [], tags: [String] = [], everything: Bool = false, heads: [String: String] = [:]) {
        self.branches = branches
        self.tags = tags
        self.everything = everything
        self.heads = heads
    }
}

/// What a verified webhook asks for.
public enum WebhookIntent: Sendable, Equatable {
    case push(PushEvent)
    /// A ping, a test delivery or another event: answered, nothing triggered.
    case ignored(String)
}

/// Why a webhook was refused; each maps to an HTTP status and a metric outcome.
public struct WebhookRejection: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        /// No signature or token at all: 401.
        case unsigned
        /// A signature or token that does not match the secret: 403.
        case forged
        /// Signed correctly but not a payload we can read: 400.
        case malformed
    }

    public let kind: Kind
    public let message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }
}
