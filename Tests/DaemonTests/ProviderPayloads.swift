import Daemon
import Foundation

/// What each provider sends for a push to `branch`: its headers (signed with `secret`) and body.
enum ProviderPayloads {
    static let providers = ["github", "gitlab", "bitbucket", "bitbucket-server", "gitea", "forgejo", "generic", "generic-hmac"]

    /// The `webhook.provider` setting a payload kind is checked by.
    static func configuredProvider(_ kind: String) -> String {
        switch kind {
        case "bitbucket-server": "bitbucket"
        case "forgejo": "gitea"
        case "generic-hmac": "generic"
        default: kind
        }
    }

    /// A head commit id the payloads name (tests that sync pass the real one).
    static let head = String(repeating: "ab", count: 20)

    /// Whether the payload kind names the pushed head commit.
    static func sendsHead(_ kind: String) -> Bool { kind != "generic" }

    static func body(_ kind: String, branch: String = "main", head: String = ProviderPayloads.head) -> [UInt8] {
        let text: String
        switch kind {
        case "bitbucket":
            text = #"{"push":{"changes":[{"new":{"type":"branch","name":"\#(branch)","target":{"hash":"\#(head)"}},"old":{"type":"branch","name":"\#(branch)"}}]}}"#
        case "bitbucket-server":
            text = #"{"eventKey":"repo:refs_changed","changes":[{"ref":{"id":"refs/heads/\#(branch)","displayId":"\#(branch)","type":"BRANCH"},"toHash":"\#(head)","type":"UPDATE"}]}"#
        case "generic":
            text = #"{"branch":"\#(branch)"}"#
        case "generic-hmac":
            text = #"{"branch":"\#(branch)","after":"\#(head)"}"#
        default:
            text = #"{"ref":"refs/heads/\#(branch)","before":"0000","after":"\#(head)"}"#
        }
        return Array(text.utf8)
    }

    /// The event headers, without any signature.
    static func eventHeaders(_ kind: String) -> [(String, String)] {
        switch kind {
        case "github": [("X-GitHub-Event", "push"), ("Content-Type", "application/json")]
        case "gitlab": [("X-Gitlab-Event", "Push Hook")]
        case "bitbucket": [("X-Event-Key", "repo:push")]
        case "bitbucket-server": [("X-Event-Key", "repo:refs_changed")]
        case "gitea": [("X-Gitea-Event", "push")]
        case "forgejo": [("X-Forgejo-Event", "push")]
        default: []
        }
    }

    /// The signature or token header for `body` under `secret`.
    static func signature(_ kind: String, body: [UInt8], secret: String) -> (String, String) {
        let hex = WebhookSignature.sign(body, secret: secret)
        switch kind {
        case "github": return ("X-Hub-Signature-256", "sha256=" + hex)
        case "gitlab": return ("X-Gitlab-Token", secret)
        case "bitbucket", "bitbucket-server": return ("X-Hub-Signature", "sha256=" + hex)
        case "gitea": return ("X-Gitea-Signature", hex)
        case "forgejo": return ("X-Forgejo-Signature", hex)
        case "generic-hmac": return ("X-Git2kv-Signature-256", "sha256=" + hex)
        default: return ("X-Git2kv-Token", secret)
        }
    }

    static func signedHeaders(_ kind: String, body: [UInt8], secret: String) -> [(String, String)] {
        eventHeaders(kind) + [signature(kind, body: body, secret: secret)]
    }
}
