import Foundation
public import KV
import Pipeline

/// What serve-driven benchmarks wait on: a mapping's state key naming a commit, followed with
/// blocking queries so the moment it is written is seen at once.
public enum StateKeyWait {
    public struct TimedOut: Error, CustomStringConvertible {
        public let description: String
    }

    /// Returns when `prefix`'s state key names `commit` (blocking from `index` when given).
    public static func commit(
        _ commit: String, prefix: String, kv: ConsulClient, after index: UInt64? = nil, within limit: Duration = .seconds(60)
    ) async throws -> ContinuousClock.Instant {
        let deadline = ContinuousClock.now + limit
        var waitIndex = index
        while ContinuousClock.now < deadline {
            let read = try await kv.get(prefix + "/.git2kv/state", options: KVReadOptions(waitIndex: waitIndex, waitTime: .seconds(5)))
            if let entry = read.value, try SyncState.decode(entry.value).commit.id == commit { return .now }
            waitIndex = read.index
        }
        throw TimedOut(description: "\(prefix) did not reach \(commit) within \(limit)")
    }
}
