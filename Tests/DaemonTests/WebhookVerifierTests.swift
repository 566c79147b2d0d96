import Daemon
import Pipeline
import Testing

@Suite struct WebhookVerifierTests {
    let secret = "correct horse"

    private func verifier(_ kind: String) -> WebhookVerifier {
        WebhookVerifier(provider: WebhookConfig.Provider(rawValue: ProviderPayloads.configuredProvider(kind))!, secret: secret)
    }

    @Test(arguments: ProviderPayloads.providers)
    func signedPushNamesTheBranch(kind: String) throws {
        let body = ProviderPayloads.body(kind, branch: "release/2")
        let intent = try verifier(kind).verify(WebhookRequest(headers: Dictionary(uniqueKeysWithValues: ProviderPayloads.signedHeaders(kind, body: body, secret: secret)), body: body))
        #expect(intent == .push(PushEvent(branches: ["release/2"], heads: ProviderPayloads.sendsHead(kind) ? ["release/2": ProviderPayloads.head] : [:])))
    }

    @Test(arguments: ProviderPayloads.providers)
    func unsignedIsRefusedAsUnsigned(kind: String) {
        let body = ProviderPayloads.body(kind)
        let request = WebhookRequest(headers: Dictionary(uniqueKeysWithValues: ProviderPayloads.eventHeaders(kind)), body: body)
        #expect(throws: WebhookRejection.self) { try verifier(kind).verify(request) }
        do {
            _ = try verifier(kind).verify(request)
        } catch {
            #expect(error.kind == .unsigned)
            #expect(!error.message.contains(secret))
        }
    }

    @Test(arguments: ProviderPayloads.providers)
    func wrongSecretOrTamperedBodyIsForged(kind: String) {
        let body = ProviderPayloads.body(kind)
        let wrongSecret = ProviderPayloads.signedHeaders(kind, body: body, secret: "guess")
        let tampered = ProviderPayloads.signedHeaders(kind, body: body, secret: secret)
        for (headers, sent) in [(wrongSecret, body), (tampered, ProviderPayloads.body(kind, branch: "evil"))] {
            let request = WebhookRequest(headers: Dictionary(uniqueKeysWithValues: headers), body: sent)
            do {
                _ = try verifier(kind).verify(request)
                // A token provider signs no body: a tampered body with the right token is accepted by design.
                #expect(["gitlab", "generic"].contains(kind) && sent != body, "\(kind) accepted a forged webhook")
            } catch {
                #expect(error.kind == .forged)
                #expect(!error.message.contains(secret))
            }
        }
    }

    @Test func headerNamesAreCaseInsensitive() throws {
        let body = ProviderPayloads.body("github")
        let request = WebhookRequest(headers: ["x-hub-signature-256": "sha256=" + WebhookSignature.sign(body, secret: secret), "X-GITHUB-EVENT": "push"], body: body)
        #expect(try verifier("github").verify(request) == .push(PushEvent(branches: ["main"], heads: ["main": ProviderPayloads.head])))
    }

    @Test func pingsAndOtherEventsAreIgnored() throws {
        let body = Array(#"{"zen":"Keep it logically awesome."}"#.utf8)
        let ping = WebhookRequest(headers: ["X-GitHub-Event": "ping", "X-Hub-Signature-256": "sha256=" + WebhookSignature.sign(body, secret: secret)], body: body)
        #expect(try verifier("github").verify(ping) == .ignored("GitHub ping event"))
        let mergeRequest = WebhookRequest(headers: ["X-Gitlab-Event": "Merge Request Hook", "X-Gitlab-Token": secret], body: body)
        if case .ignored = try verifier("gitlab").verify(mergeRequest) {} else { Issue.record("a merge request hook triggered a sync") }
    }

    @Test func tagPushesAndMalformedBodies() throws {
        let tag = Array(#"{"ref":"refs/tags/v1.2"}"#.utf8)
        let request = WebhookRequest(headers: ["X-Gitea-Signature": WebhookSignature.sign(tag, secret: secret)], body: tag)
        #expect(try verifier("gitea").verify(request) == .push(PushEvent(tags: ["v1.2"])))

        let garbage = Array("not json {".utf8)
        let signedGarbage = WebhookRequest(headers: ["X-Hub-Signature-256": "sha256=" + WebhookSignature.sign(garbage, secret: secret)], body: garbage)
        do {
            _ = try verifier("github").verify(signedGarbage)
            Issue.record("a body that is not JSON was accepted")
        } catch {
            #expect(error.kind == .malformed)
        }
        let empty = WebhookRequest(headers: ["X-Git2kv-Token": secret], body: [])
        #expect(try verifier("generic").verify(empty) == .push(PushEvent(everything: true)))
    }

    @Test func malformedSignaturesAreForgedNotCrashes() {
        let body = ProviderPayloads.body("github")
        for header in ["sha256=", "sha256=zz", "sha1=abcd", "sha256=" + String(repeating: "a", count: 63), String(repeating: "0", count: 64)] {
            let request = WebhookRequest(headers: ["X-Hub-Signature-256": header], body: body)
            do {
                _ = try verifier("github").verify(request)
                Issue.record("signature \(header) was accepted")
            } catch {
                #expect(error.kind == .forged)
            }
        }
    }
}
