import Foundation
import Pipeline

/// Reads which branches and tags a verified webhook pushed, in each provider's payload format.
struct PushEventReader: Sendable {
    let provider: WebhookConfig.Provider

    func read(_ request: WebhookRequest) throws(WebhookRejection) -> WebhookIntent {
        switch provider {
        case .github:
            let event = request.header("x-github-event") ?? "push"
            guard event == "push" else { return .ignored("GitHub \(event) event") }
            return try refPush(request.body)
        case .gitlab:
            let event = request.header("x-gitlab-event") ?? "Push Hook"
            guard event == "Push Hook" || event == "Tag Push Hook" else { return .ignored("GitLab \(event)") }
            return try refPush(request.body)
        case .gitea:
            let event = request.header("x-forgejo-event") ?? request.header("x-gitea-event") ?? "push"
            guard event == "push" else { return .ignored("Gitea/Forgejo \(event) event") }
            return try refPush(request.body)
        case .bitbucket:
            switch request.header("x-event-key") {
            case "repo:push": return try bitbucketCloudPush(request.body)
            case "repo:refs_changed": return try bitbucketServerPush(request.body)
            case let other: return .ignored("Bitbucket \(other ?? "event without X-Event-Key")")
            }
        case .generic:
            return try genericPush(request.body)
        }
    }

    private func json(_ body: [UInt8]) throws(WebhookRejection) -> [String: Any] {
        guard let object = try? JSONSerialization.jsonObject(with: Data(body)), let dictionary = object as? [String: Any] else {
            throw WebhookRejection(.malformed, "the body is not a JSON object")
        }
        return dictionary
    }

    /// GitHub, GitLab, Gitea and Forgejo: `{"ref": "refs/heads/main", ...}`.
    private func refPush(_ body: [UInt8]) throws(WebhookRejection) -> WebhookIntent {
        let object = try json(body)
        guard let ref = object["ref"] as? String else {
            throw WebhookRejection(.malformed, "the push payload has no \"ref\" string")
        }
        return intent(fullReferences: [(ref, object["after"] as? String, object["before"] as? String)])
    }

    /// Bitbucket Cloud: `{"push": {"changes": [{"new": {"type": "branch", "name": "main"}, "old": …}]}}`.
    private func bitbucketCloudPush(_ body: [UInt8]) throws(WebhookRejection) -> WebhookIntent {
        guard let push = try json(body)["push"] as? [String: Any], let changes = push["changes"] as? [[String: Any]] else {
            throw WebhookRejection(.malformed, "the Bitbucket repo:push payload has no push.changes list")
        }
        var references: [(String, String?, String?)] = []
        for change in changes {
            // A deleted branch has no "new"; its old side still names what changed.
            let new = change["new"] as? [String: Any]
            guard let side = new ?? (change["old"] as? [String: Any]),
                let name = side["name"] as? String, let type = side["type"] as? String
            else { continue }
            let head = (new?["target"] as? [String: Any])?["hash"] as? String
            let previous = ((change["old"] as? [String: Any])?["target"] as? [String: Any])?["hash"] as? String
            references.append((type == "tag" ? "refs/tags/\(name)" : "refs/heads/\(name)", head, previous))
        }
        return intent(fullReferences: references)
    }

    /// Bitbucket Server / Data Center: `{"changes": [{"ref": {"id": "refs/heads/main", ...}}]}`.
    private func bitbucketServerPush(_ body: [UInt8]) throws(WebhookRejection) -> WebhookIntent {
        guard let changes = try json(body)["changes"] as? [[String: Any]] else {
            throw WebhookRejection(.malformed, "the Bitbucket repo:refs_changed payload has no changes list")
        }
        let references: [(String, String?, String?)] = changes.compactMap { change in
            guard let id = ((change["ref"] as? [String: Any])?["id"] as? String) ?? (change["refId"] as? String) else { return nil }
            return (id, change["toHash"] as? String, change["fromHash"] as? String)
        }
        return intent(fullReferences: references)
    }

    /// The generic endpoint: an empty body syncs everything; otherwise `{"ref": "refs/heads/main"}`
    /// or `{"branch": "main"}` or `{"tag": "v1"}`.
    private func genericPush(_ body: [UInt8]) throws(WebhookRejection) -> WebhookIntent {
        if body.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) {
            return .push(PushEvent(everything: true))
        }
        let object = try json(body)
        let head = object["after"] as? String
        let previous = object["before"] as? String
        if let ref = object["ref"] as? String { return intent(fullReferences: [(ref, head, previous)]) }
        if let branch = object["branch"] as? String { return intent(fullReferences: [("refs/heads/" + branch, head, previous)]) }
        if let tag = object["tag"] as? String { return intent(fullReferences: [("refs/tags/" + tag, nil, nil)]) }
        throw WebhookRejection(.malformed, "a generic webhook body needs \"ref\", \"branch\" or \"tag\" (or no body to sync everything)")
    }

    private func intent(fullReferences: [(reference: String, head: String?, previous: String?)]) -> WebhookIntent {
        func objectID(_ text: String?) -> String? {
            guard let text, text.count == 40, text.allSatisfy(\.isHexDigit) else { return nil }
            return text.lowercased()
        }
        var event = PushEvent()
        for (reference, head, previous) in fullReferences {
            if reference.hasPrefix("refs/heads/") {
                let branch = String(reference.dropFirst("refs/heads/".count))
                event.branches.append(branch)
                if let head = objectID(head) { event.heads[branch] = head }
                if let previous = objectID(previous) { event.previousHeads[branch] = previous }
            } else if reference.hasPrefix("refs/tags/") {
                event.tags.append(String(reference.dropFirst("refs/tags/".count)))
            }
        }
        return .push(event)
    }
}
