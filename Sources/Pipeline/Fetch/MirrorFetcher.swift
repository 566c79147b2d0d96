import GitKit

/// How a mirror is fetched: inside this process (libraries and their tests), or in a child
/// process stopped at the repo's deadlines (every git2kv command).
public enum MirrorFetcher: Sendable {
    case inProcess
    case isolated(IsolatedFetcher)

    func fetch(_ repo: RepoConfig, into repository: GitRepository) async throws(GitError) -> [ReferenceUpdate] {
        switch self {
        case .inProcess:
            return try await repository.fetch(url: repo.url, credentials: repo.credentials, trust: repo.trust)
        case .isolated(let fetcher):
            return try await fetcher.fetch(
                mirror: repository.path, url: repo.url, credentials: repo.credentials, trust: repo.trust, timeouts: repo.timeouts)
        }
    }
}
