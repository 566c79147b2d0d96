import Foundation
public import GitKit
import ConfigParsing

/// One sync pass over a whole configuration: fetch each repository once, then sync every
/// mapping of every branch and tag. A failing repository or mapping is reported and the
/// others still sync.
public struct SyncRunner: Sendable {
    public struct Report: Sendable {
        /// Something that could not be synced: a repository, a reference or one mapping.
        public struct Failure: Sendable {
            /// Named by repo, reference and mapping, for messages.
            public let what: String
            public let error: SyncError
            /// The mapping that failed; nil when a whole repository or reference did.
            public let target: MappingTarget?
        }

        public var results: [MappingResult] = []
        public var failures: [Failure] = []

        public init() {}

        /// True when nothing failed; a frozen prefix being skipped is not a failure.
        public var succeeded: Bool {
            failures.allSatisfy { $0.error.kind == .frozen } && results.allSatisfy { $0.plan.outstandingErrors.isEmpty }
        }
    }

    public let config: DaemonConfig
    public var fetch = true
    public var progress: (@Sendable (String) -> Void)?
    public let fetcher: MirrorFetcher

    public init(config: DaemonConfig, fetcher: MirrorFetcher = .inProcess) {
        self.config = config
        self.fetcher = fetcher
    }

    public var mirrorsDirectory: String { config.stateDirectory + "/mirrors" }
    public var records: SyncRecordStore { SyncRecordStore(directory: config.stateDirectory + "/records") }

    /// Opens the repository's mirror (creating it when needed) and runs `body` on it while
    /// holding the mirror's lock, so no other git2kv process on this machine fetches into it
    /// meanwhile. Every command that touches a mirror goes through here.
    public func withMirror<T>(
        of repo: RepoConfig, _ body: (GitRepository) async throws(SyncError) -> T
    ) async throws(SyncError) -> T {
        do {
            try FileManager.default.createDirectory(atPath: mirrorsDirectory, withIntermediateDirectories: true)
        } catch {
            throw SyncError(.git, "cannot create \(mirrorsDirectory): \(error.localizedDescription)")
        }
        let lock = try await MirrorLock.acquire("\(mirrorsDirectory)/\(repo.name).lock")
        defer { withExtendedLifetime(lock) {} }
        let repository: GitRepository
        do {
            repository = try GitRepository.openOrCreateMirror(at: "\(mirrorsDirectory)/\(repo.name).git", remoteURL: repo.url)
        } catch {
            throw SyncError(.git, error.description)
        }
        return try await body(repository)
    }

    /// Fetches every branch and tag of `repo` into its mirror, and consolidates the mirror's
    /// packs once libgit2's one-pack-per-fetch has piled up `repackThreshold` of them.
    public func fetch(_ repo: RepoConfig, into repository: GitRepository) async throws(SyncError) {
        progress?("fetching \(repo.name)")
        _ = try await GitCall.run { () throws(GitError) in try await fetcher.fetch(repo, into: repository) }
        if await repository.packCount() > Self.repackThreshold {
            progress?("repacking \(repo.name)")
            // A failed repack leaves the packs as they were; the next fetch tries again.
            try? await repository.repack()
        }
    }

    static let repackThreshold = 32

    public func run(dryRun: Bool) async -> Report {
        var report = Report()
        for repo in config.repos {
            do {
                try await withMirror(of: repo) { repository throws(SyncError) in
                    if fetch { try await fetch(repo, into: repository) }
                    await sync(repo, in: repository, dryRun: dryRun, into: &report)
                }
            } catch {
                report.failures.append(.init(what: "repo \(repo.name)", error: error, target: nil))
            }
        }
        return report
    }

    private func sync(_ repo: RepoConfig, in repository: GitRepository, dryRun: Bool, into report: inout Report) async {
        let pass = await sync(repo, in: repository) { _ in SyncOptions(dryRun: dryRun) }
        report.results += pass.results
        report.failures += pass.failures
    }

    /// Syncs the mappings of `repo` for the references `only` admits (every configured branch and
    /// matching tag when nil), from the mirror as it is, each with the options `options` gives it.
    public func sync(
        _ repo: RepoConfig, in repository: GitRepository, only: ((_ reference: String, _ isTag: Bool) -> Bool)? = nil,
        options: (MappingTarget) -> SyncOptions
    ) async -> Report {
        var report = Report()
        for (reference, isTag) in await references(of: repo, in: repository) where only?(reference, isTag) ?? true {
            let head: ObjectID
            do {
                head = try await GitCall.run { () throws(GitError) in
                    try await isTag ? repository.resolveTag(reference) : repository.resolveBranch(reference)
                }
            } catch {
                report.failures.append(.init(what: "repo \(repo.name) \(isTag ? "tag" : "branch") \(reference)", error: error, target: nil))
                continue
            }
            for target in targets(of: repo, reference: reference, isTag: isTag) {
                do throws(SyncError) {
                    if Task.isCancelled { throw SyncError(.notLeader, "stopped before syncing: the sync was cancelled") }
                    let kv = try KVConnection.openForSync(config.kv, token: target.mapping.token)
                    var sync = MappingSync(target: target, kv: kv, address: config.kv.address, repository: repository, records: records)
                    sync.progress = progress
                    report.results.append(try await sync.run(head: head, options: options(target)))
                } catch {
                    report.failures.append(.init(what: target.description, error: error, target: target))
                }
            }
        }
        return report
    }

    /// What `git2kv status` and the daemon's /status show: every mapping of every branch and
    /// matching tag. A repository whose mirror cannot be fetched is shown from the mirror as it
    /// is, with a warning; one that cannot be opened at all is shown without its heads.
    public func statuses() async -> (statuses: [MappingStatus], warnings: [String]) {
        var statuses: [MappingStatus] = []
        var warnings: [String] = []
        for repo in config.repos {
            do {
                try await withMirror(of: repo) { repository throws(SyncError) in
                    if fetch {
                        do { try await fetch(repo, into: repository) } catch { warnings.append("fetch \(repo.name): \(error)") }
                    }
                    for (reference, isTag) in await references(of: repo, in: repository) {
                        for target in targets(of: repo, reference: reference, isTag: isTag) {
                            statuses.append(await status(of: target, repository: repository))
                        }
                    }
                }
            } catch {
                warnings.append("repo \(repo.name): \(error)")
                for target in repo.branches.flatMap({ targets(of: repo, reference: $0, isTag: false) }) {
                    statuses.append(await status(of: target, repository: nil))
                }
            }
        }
        return (statuses, warnings)
    }

    private func status(of target: MappingTarget, repository: GitRepository?) async -> MappingStatus {
        do {
            let kv = try KVConnection.openForSync(config.kv, token: target.mapping.token)
            return await MappingStatus.read(target: target, kv: kv, repository: repository)
        } catch {
            var status = MappingStatus.unreadable(target)
            status.problem = error.description
            return status
        }
    }

    public func targets(of repo: RepoConfig, reference: String, isTag: Bool) -> [MappingTarget] {
        repo.mappings.map { MappingTarget(repo: repo.name, reference: reference, isTag: isTag, mapping: $0) }
    }

    /// The configured branches, and the tags matching the configured tag patterns.
    public func references(of repo: RepoConfig, in repository: GitRepository) async -> [(String, Bool)] {
        var references = repo.branches.map { ($0, false) }
        guard !repo.tags.isEmpty else { return references }
        let tags = (try? await repository.referenceNames(under: "refs/tags/")) ?? []
        for tag in tags where repo.tags.contains(where: { GlobPattern($0).matches(tag) }) {
            references.append((tag, true))
        }
        return references
    }
}
