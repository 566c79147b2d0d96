import BundleFormat
import Foundation
import GitKit
import KV

/// Decides what one sync of one mapping writes: reads the state key and the prefix's key list,
/// then diffs the synced commit to the head (or compares the whole tree when it must).
struct SyncPlanner: Sendable {
    let target: MappingTarget
    let kv: any KVStore
    let repository: GitRepository
    let builder: BundleBuilder
    /// Told how a long full compare advances (only on a terminal).
    var progress: (@Sendable (String) -> Void)?
    /// A rollback writes the given commit into a frozen prefix and records itself as such.
    var purpose = SyncOptions.Purpose.sync

    var fullCompareKind: String { purpose == .rollback ? "rollback" : "full-compare" }

    init(target: MappingTarget, kv: any KVStore, repository: GitRepository) {
        self.target = target
        self.kv = kv
        self.repository = repository
        self.builder = BundleBuilder(target: target)
    }

    /// Reports every tenth of a long run of steps.
    func report(step: Int, of total: Int, _ what: String) {
        guard let progress, total >= 20, step % max(total / 10, 1) == 0 || step == total else { return }
        progress("\(target.description): \(what) \(step)/\(total)")
    }

    /// Values larger than this are chunked, so that every value fits in one transaction body
    /// even after base64 (Consul: 512 KiB per value and per transaction).
    var valueLimit: Int { TransactionPacker.largestValue(kv.limits) }

    var chunkSize: Int { valueLimit / 2 }

    var layoutName: String {
        switch target.mapping.layout {
        case .bundle: "bundle-\(target.mapping.bundleBy.rawValue)"
        case .files: "files" + (target.mapping.expandKeys ? "-expand" : "") + (target.mapping.ignoreFileExtension ? "-noext" : "")
        }
    }

    func plan(head: ObjectID, baseline: SyncRecord?, now: Int64) async throws(SyncError) -> SyncPlan {
        let stateRead = try await KVCall.run("read \(target.stateKey)") { () throws(KVError) in try await kv.get(target.stateKey) }
        let stateIndex = stateRead.value?.modifyIndex ?? 0
        var previous: SyncState?
        var unreadable: String?
        if let entry = stateRead.value {
            do {
                previous = try SyncState.decode(entry.value)
            } catch {
                unreadable = "\(target.stateKey) is unreadable (\(error.message)); comparing the whole tree"
            }
        }
        var keys: Set<String>?
        let prefixIndex: UInt64
        if let quiet = try await quietIndex(previous: previous, stateIndex: stateIndex, baseline: baseline) {
            prefixIndex = quiet
        } else {
            let keysRead = try await KVCall.run("list keys under \(target.prefix)/") { () throws(KVError) in
                try await kv.keys(prefix: target.prefix + "/", separator: nil, options: .default)
            }
            var listed = Set(keysRead.value)
            if listed.contains(target.freezeKey), purpose == .sync { try await refuseFrozen() }
            listed = listed.filter { !target.isControlled($0) }
            keys = listed
            prefixIndex = keysRead.index
        }
        let context = PlanContext(
            head: head, stateIndex: stateIndex, previous: previous, keys: keys,
            prefixIndex: prefixIndex, now: now)

        let decision: Decision
        if purpose == .rollback {
            decision = .fullCompare(reason: "rollback to \(head.short)")
        } else if let previous {
            decision = try await decide(previous, context: context, baseline: baseline)
        } else {
            decision = .fullCompare(reason: unreadable ?? "no state yet: comparing the whole tree")
        }
        switch (target.mapping.layout, decision) {
        case (.files, .fullCompare(let reason)): return try await filesFullCompare(context, reason: reason)
        case (.files, .incremental(let previous, let synced)): return try await filesIncremental(context, previous: previous, synced: synced)
        case (.bundle, .fullCompare(let reason)): return try await fullCompare(context, reason: reason)
        case (.bundle, .incremental(let previous, let synced)): return try await incremental(context, previous: previous, synced: synced)
        }
    }

    /// The prefix's index when nothing under it changed since this machine's last write (so no
    /// key listing is needed); nil when that cannot be told cheaply or something did change.
    /// Only the bundle layout trusts it: the files layout needs the key list anyway. Nor after a
    /// rollback, which writes into the prefix it froze: the freeze is older than that write.
    private func quietIndex(previous: SyncState?, stateIndex: UInt64, baseline: SyncRecord?) async throws(SyncError) -> UInt64? {
        guard target.mapping.layout == .bundle, purpose == .sync, let previous, !previous.isLegacy, previous.kind != "rollback",
            let baseline, baseline.stateIndex == stateIndex
        else { return nil }
        let index = try await KVCall.run("read the index of \(target.prefix)/") { () throws(KVError) in
            try await kv.changeIndex(under: target.prefix + "/")
        }
        guard let index, index <= baseline.lastWriteIndex else { return nil }
        return index
    }

    private func refuseFrozen() async throws(SyncError) {
        let read = try await KVCall.run("read \(target.freezeKey)") { () throws(KVError) in try await kv.get(target.freezeKey) }
        guard let entry = read.value else { return }
        throw SyncError(.frozen, "\(target.prefix) is \(FreezeRecord.decode(entry.value).summary); `git2kv unfreeze \(target.prefix)` resumes syncing")
    }

    /// Whether a diff from the synced commit can be trusted, and why not when it cannot.
    enum Decision {
        case fullCompare(reason: String)
        case incremental(previous: SyncState, synced: ObjectID)
    }

    private func decide(_ state: SyncState, context: PlanContext, baseline: SyncRecord?) async throws(SyncError) -> Decision {
        guard let synced = ObjectID(hex: state.commit.id) else { return .fullCompare(reason: "the state names no valid commit") }
        if let reason = try await reasonForFullCompare(state, synced: synced, context: context, baseline: baseline) {
            return .fullCompare(reason: reason)
        }
        return .incremental(previous: state, synced: synced)
    }

    /// Why the diff from the synced commit cannot be trusted, or nil when it can.
    private func reasonForFullCompare(
        _ state: SyncState, synced: ObjectID, context: PlanContext, baseline: SyncRecord?
    ) async throws(SyncError) -> String? {
        if state.isLegacy {
            return "the state was written by an older git2kv (version \(state.version)): comparing the whole tree once"
        }
        if state.source != target.mapping.source || state.layout != layoutName || state.repo != target.repo || state.branch != target.reference {
            return "the mapping changed (was \(state.repo)@\(state.branch) \(state.source) as \(state.layout))"
        }
        if let checks = state.checks, checks != target.mapping.checksFingerprint {
            return "the mapping's checks changed (validation, include/exclude or key expansion): checking every file again"
        }
        let relation = try await GitCall.run { () throws(GitError) in try await repository.relation(of: synced, to: context.head) }
        switch relation {
        case .diverged: return "the branch was force-pushed (\(synced.short) is not an ancestor of \(context.head.short))"
        case .unknownCommit: return "the synced commit \(synced.short) is not in the repository"
        case .same, .fastForward: break
        }
        if let keys = context.keys {
            let live = target.mapping.layout == .files ? keys.filter { !$0.hasPrefix(target.internalPrefix) } : keys
            let found = KeySummary(live)
            if state.keys != found {
                return "keys under the prefix differ from the state (\(found.count) found, \(state.keys?.count ?? 0) expected): checking for drift"
            }
        }
        guard let baseline, baseline.stateIndex == context.stateIndex else {
            return "this machine has no record of the last write: checking for drift"
        }
        if context.prefixIndex > baseline.lastWriteIndex {
            return "keys under the prefix changed since the last sync: checking for drift"
        }
        return nil
    }

    // MARK: Shared steps

    /// What changed under the source from the synced commit to the head (nothing when they are the same).
    func diffSinceSync(_ synced: ObjectID, _ context: PlanContext) async throws(SyncError) -> [DiffDelta] {
        guard synced != context.head else { return [] }
        return try await GitCall.run { () throws(GitError) in
            try await repository.diff(from: synced, to: context.head, under: target.mapping.source, renames: .none)
        }
    }

    func readSnapshot(_ head: ObjectID, bundles: Set<String>? = nil) async throws(SyncError) -> SourceSnapshot {
        try await GitCall.run { () throws(GitError) in try await SourceSnapshot.read(repository, commit: head, target: target, bundles: bundles) }
    }

    func build(_ name: String, _ snapshot: SourceSnapshot) async throws(SyncError) -> BuildOutcome {
        try await GitCall.run { () throws(GitError) in try await builder.build(name, from: snapshot, repository: repository) }
    }

    /// Encodes a bundle for KV (chunked when over the value limit) and adds it to the plan.
    func stage(_ bundle: ConfigBundle, name: String, existingKeys: Set<String>, into plan: inout SyncPlan) throws(SyncError) -> BundleRecord {
        stage(bundle, stored: try encode(bundle, name: name).get(), name: name, existingKeys: existingKeys, into: &plan)
    }

    /// A bundle's KV value (chunked when over the value limit).
    func encode(_ bundle: ConfigBundle, name: String) -> Result<StoredBundle, SyncError> {
        do {
            return .success(try BundleChunker.store(bundle, valueLimit: valueLimit, chunkSize: chunkSize))
        } catch {
            return .failure(SyncError(.bundle, "cannot encode bundle \(name): \(error.message)"))
        }
    }

    /// Adds an encoded bundle to the plan.
    func stage(_ bundle: ConfigBundle, stored: StoredBundle, name: String, existingKeys: Set<String>, into plan: inout SyncPlan) -> BundleRecord {
        var write = SyncPlan.Write(key: target.bundleKey(name), value: stored.keyValue, bundle: name)
        if case .chunked(_, let chunks) = stored { write.chunks = chunks }
        plan.writes.append(write)
        switch stored {
        case .single(let value):
            return BundleRecord(digest: bundle.digest, commit: bundle.commit.id, size: value.count)
        case .chunked(let manifest, let chunks):
            for chunk in chunks where !existingKeys.contains(target.chunkKey(chunk.sha256)) {
                if !plan.chunkUploads.contains(where: { $0.sha256 == chunk.sha256 }) { plan.chunkUploads.append(chunk) }
            }
            return BundleRecord(digest: bundle.digest, commit: bundle.commit.id, size: manifest.size, chunks: manifest.chunks.map(\.sha256))
        }
    }

    func unreferencedChunks(existing: Set<String>, records: [String: BundleRecord]) -> [String] {
        let referenced = Set(records.values.flatMap { $0.chunks ?? [] }.map(target.chunkKey))
        return existing.filter { $0.hasPrefix(target.chunkPrefix) && !referenced.contains($0) }.sorted()
    }

    func newState(
        _ context: PlanContext, inventory: BundleInventory, errors: [SyncProblem], kind: String, drift: [String],
        commit: CommitInfo
    ) -> SyncState {
        let previousCommit = context.previous.map(\.commit.id).flatMap { $0 == commit.id.hex ? context.previous?.previousCommit : $0 }
        var state = SyncState(
            repo: target.repo, branch: target.reference, source: target.mapping.source, layout: layoutName,
            commit: BundleCommit(
                id: commit.id.hex, author: commit.author.name, email: commit.author.email, time: commit.author.time,
                summary: commit.summary),
            previousCommit: previousCommit, syncedAt: context.now, kind: kind, bundleCount: inventory.count,
            chunked: inventory.chunked, errors: errors.sorted { ($0.bundle, $0.file) < ($1.bundle, $1.file) }, drift: drift)
        state.keys = inventory.keys
        state.checks = target.mapping.checksFingerprint
        return state
    }
}

/// What the planner read before deciding.
struct PlanContext: Sendable {
    let head: ObjectID
    let stateIndex: UInt64
    let previous: SyncState?
    /// Every key under the prefix but the control keys; nil when the prefix's index showed
    /// nothing changed since this machine's last write, so it was not listed.
    let keys: Set<String>?
    let prefixIndex: UInt64
    let now: Int64

    func emptyPlan(target: MappingTarget, mode: SyncPlan.Mode, reason: String) -> SyncPlan {
        var plan = SyncPlan(
            target: target, mode: mode, reason: reason, head: head.hex, stateIndex: stateIndex, previousState: previous,
            observedPrefixIndex: prefixIndex)
        plan.listedKeys = keys != nil
        return plan
    }
}

/// Turns KV and git failures into sync errors that say what was being done.
enum KVCall {
    static func run<T>(_ what: String, _ body: () async throws(KVError) -> T) async throws(SyncError) -> T {
        do {
            return try await body()
        } catch {
            throw SyncError(.kv, "\(what): \(error)")
        }
    }
}

enum GitCall {
    static func run<T>(_ body: () async throws(GitError) -> T) async throws(SyncError) -> T {
        do {
            return try await body()
        } catch {
            throw SyncError(.git, error.description)
        }
    }
}
