import KV
public import Leadership

/// Spaces KV writes out so a storm of commits or a restart of many mappings cannot overload
/// the cluster. Called before every transaction with the number of operations it carries.
public protocol KVWriteThrottle: Sendable {
    func admit(operations: Int) async throws(CancellationError)
}

/// How a sync writes: plain, or as a rollback, with the guards a daemon adds.
public struct SyncOptions: Sendable {
    public enum Purpose: Sendable, Equatable {
        case sync
        /// Writes the given commit even though the prefix is frozen, recorded as a rollback.
        case rollback
    }

    public var dryRun = false
    public var purpose = Purpose.sync
    public var leaderLock: LeaderLock?
    public var throttle: (any KVWriteThrottle)?
    /// Set when the sync promotes a staged rollout: the stage key's index. The commit is then
    /// written to the fleet's keys, and the canary values and stage removed after it.
    public var promoting: UInt64?

    public init(dryRun: Bool = false, purpose: Purpose = .sync, leaderLock: LeaderLock? = nil, throttle: (any KVWriteThrottle)? = nil) {
        self.dryRun = dryRun
        self.purpose = purpose
        self.leaderLock = leaderLock
        self.throttle = throttle
    }
}

extension SyncOptions {
    /// The checks every transaction of a write carries: the prefix is not frozen (unless this is
    /// a rollback) and, under a leader, its lock is still held.
    func standingGuards(for target: MappingTarget) -> [KVOperation] {
        var guards: [KVOperation] = []
        if purpose == .sync { guards.append(.checkNotExists(key: target.freezeKey)) }
        if let lock = leaderLock { guards.append(.checkSession(key: lock.key, session: lock.session)) }
        return guards
    }
}

extension KVOperation {
    /// Whether this is the guard that fails when the prefix got frozen after planning.
    func isFreezeGuard(of target: MappingTarget) -> Bool {
        if case .checkNotExists(let key) = self, key == target.freezeKey { return true }
        return false
    }
}
