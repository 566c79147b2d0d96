import Foundation

/// What a load balancer in front of the `serve` replicas does with webhooks: each push goes to
/// the next replica in turn; one that does not answer (restarting) is skipped for the next.
final class WebhookProxy: @unchecked Sendable {
    private let addresses: [String]
    private let secret: String
    private let findings: Findings
    private let lock = NSLock()
    private var next = 0

    init(addresses: [String], secret: String, findings: Findings) {
        self.addresses = addresses
        self.secret = secret
        self.findings = findings
    }

    /// Posts a push of `main` at `head`; returns the status of the replica that answered.
    @discardableResult
    func post(head: String) async -> Int? {
        let start = lock.withLock {
            defer { next = (next + 1) % addresses.count }
            return next
        }
        for offset in 0..<addresses.count {
            let address = addresses[(start + offset) % addresses.count]
            let status = await HTTPProbe.status(
                address + "/webhooks/config", method: .POST,
                headers: [("X-Git2kv-Token", secret), ("Content-Type", "application/json")],
                body: Array(#"{"ref": "refs/heads/main", "after": "\#(head)"}"#.utf8))
            guard let status else { continue }
            if (200..<300).contains(status) {
                findings.count(offset == 0 ? "webhooks answered by their replica" : "webhooks passed to the next replica (one was down)")
            } else {
                findings.violation("a signed webhook was answered \(status) by \(address)")
            }
            return status
        }
        findings.count("webhooks no replica answered")
        return nil
    }
}
