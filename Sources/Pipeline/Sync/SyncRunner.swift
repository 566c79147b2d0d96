import Foundation
public import GitKit

/// One sync pass over a whole configuration: fetch each repository once, then sync every
/// mapping of every branch and tag. A failing repository or mapping is reported and the
/// others still sync.
public struct SyncRunner: Sendable {
    public struct Report: Sendable {
        public var results: [MappingResult] = []
        /// What failed, named by repo, reference and mapping.
        public var failures: [(what: String, error: SyncError)] = []
        public var succeeded: Bool { failures.isEmpty && results.allSatisfy { $0.plan.outstandingErrors.isEmpty } }
    }

    public let config: DaemonConfig
    public var fetch = true
    public var progress: (@Sendable (String) -> Void)?

    public init(config: DaemonConfig) {
        self.config = config
    }

    public var mirrorsDirectory: String { config.stateDirectory + "/mirrors" }
    public var records: SyncRecordStore { SyncRecordStore(directory: config.stateDirectory + "/records") }

    public func mirror(of repo: RepoConfig) throws(SyncError) -> GitRepository {
        try createMirrorsDirectory()
        do {
            return try GitRepository.openOrCreateMirror(at: "\(mirrorsDirectory)/\(repo.name).git", remoteURL: repo.url)
        } catch {
            throw SyncError(.git, error.description)
        }
    }

    private func createMirrorsDirectory() throws(SyncError) {
        do {
            try FileManager.default.createDirectory(atPath: mirrorsDirectory, withIntermediateDirectories: true)
        } catch {
            throw SyncError(.git, "cannot create \(mirrorsDirectory): \(error.localizedDescription)")
        }
    }

    /// Held while a repository's mirror is opened, fetched and synced from.
    func lockMirror(of repo: RepoConfig) async throws(SyncError) -> MirrorLock {
        try createMirrorsDirectory()
        return try await MirrorLock.acquire("\(mirrorsDirectory)/\(repo.name).lock")
    }

    public func run(dryRun: Bool) async -> Report {
        var report = Report()
        for repo in config.repos {
            let repository: GitRepository
            let lock: MirrorLock
            do {
                lock = try await lockMirror(of: repo)
                repository = try mirror(of: repo)
                if fetch {
                    progress?("fetching \(repo.name)")
                    _ = try await GitCall.run { () throws(GitError) in try await repository.fetch(credentials: repo.credentials) }
                }
            } catch {
                report.failures.append(("repo \(repo.name)", error))
                continue
            }
            for (reference, isTag) in await references(of: repo, in: repository) {
                let head: ObjectID
                do {
                    head = try await GitCall.run { () throws(GitError) in
                        try await isTag ? repository.resolveTag(reference) : repository.resolveBranch(reference)
                    }
                } catch {
                    report.failures.append(("repo \(repo.name) \(isTag ? "tag" : "branch") \(reference)", error))
                    continue
                }
                for mapping in repo.mappings {
                    let target = MappingTarget(repo: repo.name, reference: reference, isTag: isTag, mapping: mapping)
                    do {
                        let kv = try KVConnection.open(config.kv, token: mapping.token)
                        var sync = MappingSync(target: target, kv: kv, address: config.kv.address, repository: repository, records: records)
                        sync.progress = progress
                        report.results.append(try await sync.run(head: head, dryRun: dryRun))
                    } catch {
                        report.failures.append((target.description, error))
                    }
                }
            }
            withExtendedLifetime(lock) {}
        }
        return report
    }

    /// The configured branches, and the tags matching the configured tag patterns.
    private func references(of repo: RepoConfig, in repository: GitRepository) async -> [(String, Bool)] {
        var references = repo.branches.map { ($0, false) }
        guard !repo.tags.isEmpty else { return references }
        let tags = (try? await repository.referenceNames(under: "refs/tags/")) ?? []
        for tag in tags where repo.tags.contains(where: { GlobPattern($0).matches(tag) }) {
            references.append((tag, true))
        }
        return references
    }
}
