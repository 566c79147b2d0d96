import GitKit
import KV

/// The `files` layout: one key per file (or per leaf with expand_keys). A changed or deleted
/// file removes exactly the keys its old version produced and no others, so deleting `test`
/// never touches `test_dev`. Writes go in as few transactions as the limits allow, state last.
extension SyncPlanner {
    func filesIncremental(_ context: PlanContext, previous: SyncState, synced: ObjectID) async throws(SyncError) -> SyncPlan {
        var plan = context.emptyPlan(target: target, mode: .upToDate, reason: "")
        let deltas = try await diffSinceSync(synced, context)
        let filter = PathFilter(include: target.mapping.include, exclude: target.mapping.exclude)
        let heldBack = Set(previous.errors.map(\.file))
        let mapper = FileKeys(target: target)
        var changes: [(path: String, old: (TreeEntryKind, ObjectID)?, new: (TreeEntryKind, ObjectID)?)] = []
        for delta in deltas {
            for path in delta.paths {
                guard let text = path.string else {
                    return try await filesFullCompare(context, reason: "a path that is not UTF-8 changed")
                }
                guard filter.admits(text) else { continue }
                if heldBack.contains(repoPath(text)) {
                    return try await filesFullCompare(context, reason: "a file that was held back changed")
                }
                let old = delta.oldPath == path ? delta.oldID.map { (Self.kind(of: delta.oldMode), $0) } : nil
                let new = delta.newPath == path ? delta.newID.map { (Self.kind(of: delta.newMode), $0) } : nil
                changes.append((text, old, new))
            }
        }
        guard !changes.isEmpty else { return plan }
        plan = context.emptyPlan(target: target, mode: .incremental, reason: "")
        let ids = changes.flatMap { [$0.old?.1, $0.new?.1].compactMap { $0 } }
        let sizeLimit = target.mapping.validation.maxFileSize
        let blobs = try await GitCall.run { () throws(GitError) in try await repository.readBlobs(ids, sizeLimit: sizeLimit) }
        var contents: [ObjectID: BlobRead] = [:]
        for (id, blob) in zip(ids, blobs) { contents[id] = blob }

        var errors = previous.errors
        // The files layout always lists its keys (see `quietIndex`).
        var live = (context.keys ?? []).filter { !$0.hasPrefix(target.internalPrefix) }
        for change in changes {
            let oldKeys: [String: [UInt8]]
            if let (kind, id) = change.old,
                case .keys(let keys) = mapper.keys(path: change.path, repoPath: repoPath(change.path), kind: kind, blob: contents[id] ?? .content([]), maxValueSize: valueLimit)
            {
                oldKeys = keys
            } else {
                oldKeys = [:]
            }
            var newKeys: [String: [UInt8]] = [:]
            if let (kind, id) = change.new {
                switch mapper.keys(path: change.path, repoPath: repoPath(change.path), kind: kind, blob: contents[id] ?? .content([]), maxValueSize: valueLimit) {
                case .keys(let keys): newKeys = keys
                case .rejected(let problem):
                    let found = SyncProblem(bundle: repoPath(change.path), problem: problem, commit: context.head.hex)
                    plan.problems.append(found)
                    errors.append(found)
                    continue
                }
            }
            for (key, value) in newKeys.sorted(by: { $0.key < $1.key }) where oldKeys[key] != value || !live.contains(key) {
                plan.writes.append(.init(key: key, value: value, bundle: change.path))
                live.insert(key)
            }
            for key in oldKeys.keys.sorted() where newKeys[key] == nil {
                plan.deletes.append(key)
                live.remove(key)
            }
        }
        let changed = !plan.writes.isEmpty || !plan.deletes.isEmpty || Set(errors) != Set(previous.errors)
        guard changed else { return plan }
        let commit = try await GitCall.run { () throws(GitError) in try await repository.commit(context.head) }
        // An incremental pass does not look for drift: the last repairs stay on show until a full compare finds none.
        var state = newState(context, inventory: .none, errors: errors, kind: "sync", drift: previous.drift, commit: commit)
        state.keys = KeySummary(live)
        plan.newState = state
        return plan
    }

    /// Every file's keys at the head against every key under the prefix.
    func filesFullCompare(_ context: PlanContext, reason: String) async throws(SyncError) -> SyncPlan {
        var plan = context.emptyPlan(target: target, mode: .fullCompare, reason: reason)
        let listing = try await KVCall.run("read \(target.prefix)/") { () throws(KVError) in try await kv.list(prefix: target.prefix + "/") }
        var current: [String: [UInt8]] = [:]
        for entry in listing.value where !entry.key.hasPrefix(target.internalPrefix) { current[entry.key] = entry.value }
        let snapshot = try await readSnapshot(context.head)
        let entries = snapshot.bundles.values.flatMap { $0 }.sorted { $0.pathInSource < $1.pathInSource }
        if entries.count >= 1000 { progress?("\(target.description): reading \(entries.count) files") }
        let sizeLimit = target.mapping.validation.maxFileSize
        let blobs = try await GitCall.run { () throws(GitError) in try await repository.readBlobs(entries.map(\.entry.id), sizeLimit: sizeLimit) }
        let mapper = FileKeys(target: target)
        var desired: [String: (value: [UInt8], file: String)] = [:]
        var heldBackKeys: [String] = []
        var errors: [SyncProblem] = snapshot.problems.values.flatMap { $0 }.map {
            SyncProblem(bundle: $0.file, problem: $0, commit: context.head.hex)
        }
        for (entry, content) in zip(entries, blobs) {
            switch mapper.keys(path: entry.pathInSource, repoPath: entry.repoPath, kind: entry.entry.kind, blob: content, maxValueSize: valueLimit) {
            case .keys(let keys):
                for (key, value) in keys {
                    if let other = desired[key] {
                        errors.append(SyncProblem(
                            bundle: entry.repoPath,
                            problem: FileProblem(file: entry.repoPath, reason: "it produces the key \(key), which \(other.file) produces too"),
                            commit: context.head.hex))
                        continue
                    }
                    desired[key] = (value, entry.repoPath)
                }
            case .rejected(let problem):
                errors.append(SyncProblem(bundle: entry.repoPath, problem: problem, commit: context.head.hex))
                heldBackKeys.append(mapper.fileKey(entry.pathInSource))
            }
        }
        plan.problems = errors
        for (key, wanted) in desired.sorted(by: { $0.key < $1.key }) where current[key] != wanted.value {
            if let previous = context.previous, previous.keys != nil, current[key] != nil {
                plan.drift.append("\(key) differed from git; rewritten")
            }
            plan.writes.append(.init(key: key, value: wanted.value, bundle: wanted.file))
        }
        var live = Set(desired.keys)
        for key in current.keys.sorted() where desired[key] == nil {
            if heldBackKeys.contains(where: { key == $0 || key.hasPrefix($0 + "/") }) {
                live.insert(key)
                continue
            }
            plan.deletes.append(key)
        }
        let unchangedState = context.previous.map {
            $0.commit.id == context.head.hex && Set($0.errors) == Set(errors) && $0.keys == KeySummary(live)
        } ?? false
        if !plan.writes.isEmpty || !plan.deletes.isEmpty || !unchangedState || purpose == .rollback {
            var state = newState(context, inventory: .none, errors: errors, kind: fullCompareKind, drift: plan.drift, commit: snapshot.commit)
            state.keys = KeySummary(live)
            plan.newState = state
        }
        return plan
    }

    func repoPath(_ path: String) -> String {
        target.mapping.source.isEmpty ? path : target.mapping.source + "/" + path
    }

    static func kind(of mode: UInt32) -> TreeEntryKind {
        switch mode {
        case 0o120000: .symlink
        case 0o160000: .submodule
        case 0o100755: .file(executable: true)
        default: .file(executable: false)
        }
    }
}
