import GitKit
import KV
import Pipeline
import ConfigParsing

/// One pass for one repo, outside any actor: fetch (when asked) and sync the selected
/// references under the mirror lock, then read the status of every mapping that failed so the
/// metrics can say how far behind it is and whether it is frozen.
struct RepoSyncPass: Sendable {
    struct Outcome: Sendable {
        var fetchError: SyncError?
        var fetched = false
        var report = SyncRunner.Report()
        /// Status of each failed mapping (frozen, commits behind).
        var failedStatuses: [(target: MappingTarget, status: MappingStatus)] = []
        /// The mirror could not be opened at all.
        var mirrorError: SyncError?
    }

    let runner: SyncRunner
    let repo: RepoConfig
    let trigger: SyncTrigger?
    let fetch: Bool
    let sync: Bool
    let options: @Sendable (MappingTarget) -> SyncOptions

    func run() async -> Outcome {
        var outcome = Outcome()
        let filter: @Sendable (String, Bool) -> Bool
        switch trigger {
        case .branch(let name)?: filter = { reference, isTag in !isTag && reference == name }
        case .tags?: filter = { _, isTag in isTag }
        case nil: filter = { _, _ in true }
        }
        do throws(SyncError) {
            try await runner.withMirror(of: repo) { repository throws(SyncError) in
                if fetch {
                    do throws(SyncError) {
                        try await runner.fetch(repo, into: repository)
                        outcome.fetched = true
                    } catch {
                        outcome.fetchError = error
                    }
                }
                guard sync else { return }
                outcome.report = await runner.sync(repo, in: repository, only: filter, options: options)
                for target in outcome.report.failures.compactMap(\.target) {
                    guard let kv = try? KVConnection.open(runner.config.kv, token: target.mapping.token) else { continue }
                    outcome.failedStatuses.append((target, await MappingStatus.read(target: target, kv: kv, repository: repository)))
                }
            }
        } catch {
            outcome.mirrorError = error
        }
        // The mirror is closed: what libgit2 allocated for this pass is free, give its pages back.
        await FreedMemory.returnToSystem()
        return outcome
    }
}
