import Pipeline
import Leadership

extension RepoConfig {
    /// The reference leadership keys live under: the first branch (or `tags`).
    var leadReference: String { branches.first ?? "tags" }

    /// The repo's first mapping on its first branch: its prefix holds the leader lock and the
    /// sync-request key, and its state key is what readiness reads to see that KV answers.
    var leadTarget: MappingTarget {
        MappingTarget(repo: name, reference: leadReference, mapping: mappings[0])
    }

    /// The key the leader's session locks for `mapping`; its transactions check it on every
    /// reference, so each mapping is guarded with a key its own token can read.
    func guardKey(of mapping: MappingConfig) -> String {
        MappingTarget(repo: name, reference: leadReference, mapping: mapping).leaderKey
    }

    /// How a replica holding `lock` (nil without HA) writes `mapping`: every transaction checks
    /// that the lock's session still holds the mapping's guard key.
    func writeOptions(for mapping: MappingConfig, lock: LeaderLock?, throttle: (any KVWriteThrottle)?) -> SyncOptions {
        SyncOptions(leaderLock: lock.map { LeaderLock(key: guardKey(of: mapping), session: $0.session) }, throttle: throttle)
    }
}
