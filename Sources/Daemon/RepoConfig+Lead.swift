import Pipeline

extension RepoConfig {
    /// The repo's first mapping on its first branch: its prefix holds the leader lock, and its
    /// state key is what readiness reads to see that KV answers.
    var leadTarget: MappingTarget {
        MappingTarget(repo: name, reference: branches.first ?? "tags", mapping: mappings[0])
    }
}
