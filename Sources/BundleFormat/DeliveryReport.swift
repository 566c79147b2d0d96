import Foundation

/// What one node says it delivered: the value of `<reports prefix>/<node>`, written by
/// `git2kv render` after a pass that changed what it would say (never per poll), and read by
/// `git2kv status --rollout` and by the daemon deciding whether a canary stage may proceed.
public struct DeliveryReport: Codable, Sendable, Equatable {
    public static let currentVersion = 1
    /// Where reports go unless configured otherwise; one key per node below it.
    public static let defaultPrefix = "git2kv/reports"
    /// A report is refused beyond this (a node's key is not a place to store data).
    public static let maximumSize = 256 << 10

    public enum Outcome: String, Codable, Sendable, Equatable {
        /// In place, its command (if any) ran.
        case delivered
        /// The check command rejected the new content; the old file stays.
        case checkFailed = "check_failed"
        /// The file is in place but its command failed; it stays owed and is retried.
        case commandFailed = "command_failed"
        /// The file is in place and its command has not run yet (splay, or a pass under way).
        case owed
        /// Anything else kept the old file: template, guard, unreadable or missing bundle, write.
        case failed

        public var isFailure: Bool { self == .checkFailed || self == .commandFailed || self == .failed }
    }

    public struct Output: Codable, Sendable, Equatable {
        public var destination: String
        public var bundle: String
        /// The commit of the content in place (nil before the first delivery).
        public var commit: String?
        /// sha256 of the delivered bytes.
        public var digest: String?
        public var outcome: Outcome
        /// Why it failed, in the renderer's words (nil when it did not).
        public var reason: String?
        /// The commit whose content failed (nil when nothing failed).
        public var failedCommit: String?
        /// Seconds since 1970 of the delivery in place.
        public var deliveredAt: Double?
        /// Rendered from the bundle's canary value.
        public var canary: Bool

        public init(
            destination: String, bundle: String, commit: String?, digest: String?, outcome: Outcome, reason: String? = nil,
            failedCommit: String? = nil, deliveredAt: Double?, canary: Bool = false
        ) {
            self.destination = destination
            self.bundle = bundle
            self.commit = commit
            self.digest = digest
            self.outcome = outcome
            self.reason = reason
            self.failedCommit = failedCommit
            self.deliveredAt = deliveredAt
            self.canary = canary
        }

        enum CodingKeys: String, CodingKey {
            case destination, bundle, commit, digest, outcome, reason, canary
            case failedCommit = "failed_commit"
            case deliveredAt = "delivered_at"
        }
    }

    public var version = DeliveryReport.currentVersion
    public var node: String
    /// The node renders canary values (its renderer has `canary: true`).
    public var canary: Bool
    /// Seconds since 1970 when it was written.
    public var reportedAt: Double
    public var outputs: [Output]

    public init(node: String, canary: Bool, reportedAt: Double, outputs: [Output]) {
        self.node = node
        self.canary = canary
        self.reportedAt = reportedAt
        self.outputs = outputs
    }

    enum CodingKeys: String, CodingKey {
        case version, node, canary, outputs
        case reportedAt = "reported_at"
    }

    /// Whether `other` says the same thing (the time it was written aside): a report that says
    /// nothing new is not written again.
    public func saysTheSame(as other: DeliveryReport) -> Bool {
        var copy = other
        copy.reportedAt = reportedAt
        return copy == self
    }

    public func encoded() -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array((try? encoder.encode(self)) ?? Data())
    }

    /// A report as read from KV; anything else (too big, not JSON, another version) is an error
    /// that names the key.
    public static func decode(_ bytes: [UInt8], key: String) throws(BundleError) -> DeliveryReport {
        guard bytes.count <= maximumSize else {
            throw BundleError(.tooLarge, "\(key): a delivery report of \(bytes.count) bytes is over the \(maximumSize)-byte limit")
        }
        let report: DeliveryReport
        do {
            report = try JSONDecoder().decode(DeliveryReport.self, from: Data(bytes))
        } catch {
            throw BundleError(.corrupt, "\(key) is not a delivery report: \(error)")
        }
        guard report.version == currentVersion else {
            throw BundleError(.unsupportedVersion, "\(key): delivery report version \(report.version) is not supported (reads \(currentVersion))")
        }
        return report
    }

    /// The key of `node`'s report under `prefix`.
    public static func key(prefix: String, node: String) -> String {
        directory(prefix: prefix) + node
    }

    /// `prefix` with its `/`: what every report key starts with.
    public static func directory(prefix: String) -> String {
        prefix.hasSuffix("/") ? prefix : prefix + "/"
    }
}
