import Daemon
import Foundation
import TestFixtures
import Testing

/// Every provider over real HTTP: a signed push syncs the commit; unsigned, forged, oversized
/// and unknown-repo requests are refused and trigger nothing.
@Suite struct WebhookHTTPTests {
    @Test(arguments: ProviderPayloads.providers)
    func provider(kind: String) async throws {
        let harness = try await DaemonHarness.start(provider: ProviderPayloads.configuredProvider(kind))
        defer { Task { await harness.stop() } }
        try await harness.waitForLive(try harness.repository.head())
        let passesAtStart = await harness.daemon.passes(of: "config")

        let next = try harness.repository.commit("port 81", changes: [.text("apps/web/app.json", #"{"port": 81}"#)])
        let body = ProviderPayloads.body(kind, head: next)

        let unsigned = try await harness.webhook(body, headers: ProviderPayloads.eventHeaders(kind))
        #expect(unsigned.status == 401)
        let forged = try await harness.webhook(body, headers: ProviderPayloads.signedHeaders(kind, body: body, secret: "not-the-secret"))
        #expect(forged.status == 403)
        #expect(!forged.body.contains(harness.secret))
        let oversized = Array(repeating: UInt8(ascii: " "), count: 65 * 1024) + body
        let tooBig = try await harness.webhook(oversized, headers: ProviderPayloads.signedHeaders(kind, body: oversized, secret: harness.secret))
        #expect(tooBig.status == 413)
        let unknown = try await harness.webhook(body, headers: ProviderPayloads.signedHeaders(kind, body: body, secret: harness.secret), repo: "nope")
        #expect(unknown.status == 404)
        #expect(await harness.daemon.passes(of: "config") == passesAtStart, "a refused webhook triggered a sync")
        #expect(try await harness.liveCommit() != next)

        let accepted = try await harness.webhook(body, headers: ProviderPayloads.signedHeaders(kind, body: body, secret: harness.secret))
        #expect(accepted.status == 202, "\(accepted.body)")
        try await harness.waitForLive(next)

        let metrics = try await harness.request(.GET, "/metrics").body
        let provider = ProviderPayloads.configuredProvider(kind)
        for outcome in ["unsigned", "forged", "accepted"] {
            #expect(metrics.contains(#"git2kv_webhooks_total{provider="\#(provider)",outcome="\#(outcome)"} 1"#), "\(outcome) missing from:\n\(metrics)")
        }
        #expect(metrics.contains(#"outcome="oversized"} 1"#))
        #expect(metrics.contains(#"outcome="unknown_repo"} 1"#))
        #expect(!metrics.contains(harness.secret))
    }

    @Test func pushToAnotherBranchTriggersNothing() async throws {
        let harness = try await DaemonHarness.start(provider: "github")
        defer { Task { await harness.stop() } }
        try await harness.waitForLive(try harness.repository.head())
        let before = await harness.daemon.passes(of: "config")
        let body = ProviderPayloads.body("github", branch: "feature")
        let reply = try await harness.webhook(body, headers: ProviderPayloads.signedHeaders("github", body: body, secret: harness.secret))
        #expect(reply.status == 202)
        #expect(reply.body.contains("no branch or tag this repo follows"))

        let live = try harness.repository.head()
        let redelivered = ProviderPayloads.body("github", head: live)
        let again = try await harness.webhook(redelivered, headers: ProviderPayloads.signedHeaders("github", body: redelivered, secret: harness.secret))
        #expect(again.status == 202)
        #expect(await harness.daemon.passes(of: "config") == before, "a push whose head is live already triggered a sync")
        #expect(await harness.daemon.passes(of: "config") == before)
    }

    @Test func burstOfAHundredWebhooksCausesAtMostTwoSyncs() async throws {
        let harness = try await DaemonHarness.start(provider: "github")
        defer { Task { await harness.stop() } }
        try await harness.waitForLive(try harness.repository.head())
        let before = await harness.daemon.passes(of: "config")
        let head = try harness.repository.commit("burst", changes: [.text("apps/web/app.json", #"{"port": 82}"#)])
        let body = ProviderPayloads.body("github", head: head)
        let headers = ProviderPayloads.signedHeaders("github", body: body, secret: harness.secret)
        let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<100 { group.addTask { try await harness.webhook(body, headers: headers).status } }
            return try await group.reduce(into: [Int]()) { $0.append($1) }
        }
        #expect(statuses.allSatisfy { $0 == 202 })
        try await harness.waitForLive(head)
        let syncs = await harness.daemon.passes(of: "config") - before
        #expect((1...2).contains(syncs), "100 webhooks caused \(syncs) syncs")
    }

    @Test func aReplayedDeliveryIsAnsweredButDoesNothing() async throws {
        let harness = try await DaemonHarness.start(provider: "github")
        defer { Task { await harness.stop() } }
        try await harness.waitForLive(try harness.repository.head())
        let head = try harness.repository.commit("replayed", changes: [.text("apps/web/app.json", #"{"port": 83}"#)])
        let body = ProviderPayloads.body("github", head: head)
        let headers = ProviderPayloads.signedHeaders("github", body: body, secret: harness.secret) + [("X-GitHub-Delivery", "72d3162e-cc78")]
        let before = await harness.daemon.passes(of: "config")
        #expect(try await harness.webhook(body, headers: headers).status == 202)
        try await harness.waitForLive(head)
        for _ in 0..<50 {
            let reply = try await harness.webhook(body, headers: headers)
            #expect(reply.status == 200)
            #expect(reply.body.contains("handled already"))
        }
        #expect(await harness.daemon.passes(of: "config") - before == 1)
        let metrics = try await harness.request(.GET, "/metrics").body
        #expect(metrics.contains(#"outcome="duplicate""#))
    }

    @Test func anOldPushReplayedIsIgnoredButAForcePushBackSyncs() async throws {
        let harness = try await DaemonHarness.start(provider: "github")
        defer { Task { await harness.stop() } }
        let first = try harness.repository.head()
        try await harness.waitForLive(first)
        let second = try harness.repository.commit("second", changes: [.text("apps/web/app.json", #"{"port": 84}"#)])
        func push(before: String, after: String) -> (body: [UInt8], headers: [(String, String)]) {
            let body = Array(#"{"ref":"refs/heads/main","before":"\#(before)","after":"\#(after)"}"#.utf8)
            return (body, ProviderPayloads.signedHeaders("github", body: body, secret: harness.secret))
        }
        let forward = push(before: first, after: second)
        _ = try await harness.webhook(forward.body, headers: forward.headers)
        try await harness.waitForLive(second)
        let third = try harness.repository.commit("third", changes: [.text("apps/web/app.json", #"{"port": 85}"#)])
        let next = push(before: second, after: third)
        _ = try await harness.webhook(next.body, headers: next.headers)
        try await harness.waitForLive(third)

        let before = await harness.daemon.passes(of: "config")
        for _ in 0..<20 { _ = try await harness.webhook(forward.body, headers: forward.headers) }
        #expect(await harness.daemon.passes(of: "config") == before, "a replay of an older push fetched again")

        try harness.repository.forceBranch("main", to: second)
        let back = push(before: third, after: second)
        _ = try await harness.webhook(back.body, headers: back.headers)
        try await harness.waitForLive(second)
    }
}

