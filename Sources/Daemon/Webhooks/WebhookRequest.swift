import Foundation

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

    /// The forge's id of this delivery (GitHub, Gitea/Forgejo, GitLab, Bitbucket), when it sends one.
    public var deliveryID: String? {
        let names = [
            "x-github-delivery", "x-gitea-delivery", "x-forgejo-delivery", "x-gogs-delivery", "x-gitlab-event-uuid", "x-request-uuid",
            "x-hook-uuid", "x-delivery-id",
        ]
        for name in names {
            if let value = headers[name]?.trimmingCharacters(in: .whitespaces), !value.isEmpty, value.utf8.count <= 200 { return value }
        }
        return nil
    }
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
    /// The head each pushed branch had before the push (GitHub's `before`), to tell a replayed
    /// old push from a force-push back to an earlier commit.
    public var previousHeads: [String: String]

    public init(
        branches: [String] = [], tags: [String] = [], everything: Bool = false, heads: [String: String] = [:],
        previousHeads: [String: String] = [:]
    ) {
        self.branches = branches
        self.tags = tags
        self.everything = everything
        self.heads = heads
        self.previousHeads = previousHeads
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
