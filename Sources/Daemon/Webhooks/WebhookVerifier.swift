import Foundation
public import Pipeline

/// Checks a webhook against its repo's provider and secret, then reads which references it
/// pushed. The secret is compared in constant time and never appears in a message.
public struct WebhookVerifier: Sendable {
    public let provider: WebhookConfig.Provider
    let secret: String

    public init(provider: WebhookConfig.Provider, secret: String) {
        self.provider = provider
        self.secret = secret
    }

    public func verify(_ request: WebhookRequest) throws(WebhookRejection) -> WebhookIntent {
        try checkSignature(request)
        return try PushEventReader(provider: provider).read(request)
    }

    private func checkSignature(_ request: WebhookRequest) throws(WebhookRejection) {
        switch provider {
        case .github:
            try hmac(request, headers: ["x-hub-signature-256"], requirePrefix: true)
        case .bitbucket:
            // Bitbucket Cloud and Bitbucket Server/Data Center both send `X-Hub-Signature: sha256=…`.
            try hmac(request, headers: ["x-hub-signature"], requirePrefix: true)
        case .gitea:
            // Gitea sends X-Gitea-Signature; Forgejo sends X-Forgejo-Signature (and the Gitea one too).
            try hmac(request, headers: ["x-forgejo-signature", "x-gitea-signature"], requirePrefix: false)
        case .gitlab:
            try token(request, header: "x-gitlab-token")
        case .generic:
            if request.header("x-git2kv-signature-256") != nil {
                try hmac(request, headers: ["x-git2kv-signature-256"], requirePrefix: true)
            } else {
                try token(request, header: "x-git2kv-token")
            }
        }
    }

    private func hmac(_ request: WebhookRequest, headers: [String], requirePrefix: Bool) throws(WebhookRejection) {
        guard let name = headers.first(where: { request.header($0) != nil }), let signature = request.header(name) else {
            throw WebhookRejection(.unsigned, "no \(headers.joined(separator: " or ")) header: \(provider.rawValue) webhooks must be signed with the repo's secret")
        }
        guard WebhookSignature.verifyHMAC(signature, body: request.body, secret: secret, requirePrefix: requirePrefix) else {
            throw WebhookRejection(.forged, "the \(name) header does not match the body signed with the repo's secret")
        }
    }

    private func token(_ request: WebhookRequest, header: String) throws(WebhookRejection) {
        guard let given = request.header(header) else {
            throw WebhookRejection(.unsigned, "no \(header) header: \(provider.rawValue) webhooks must carry the repo's secret token")
        }
        guard WebhookSignature.tokensEqual(given, secret) else {
            throw WebhookRejection(.forged, "the \(header) header does not match the repo's secret token")
        }
    }
}
