import KV

/// Snapshots without stopping the world: the log is rotated (a short pause of flushing), then
/// the table is copied out in pieces of a few thousand keys, each taken in one actor turn and
/// written on the snapshot's own queue, while writes go on between the pieces. Each piece shows
/// only durable values: a key with a write still in flight is taken as it was before that write.
extension ServerStore {
    static let snapshotPieceKeys = 5_000

    var snapshotDue: Bool {
        guard log != nil, !snapshotRunning, !closing, logBytes > limits.snapshotAfterLogBytes else { return false }
        guard let failedAt = snapshotFailedAtLogBytes else { return true }
        return logBytes > failedAt + limits.snapshotAfterLogBytes / 4
    }

    /// Called with `flushing` held, after a flush: every record up to `durableIndex` is in the
    /// log, and no later one is.
    func startSnapshot() {
        guard let log else { return }
        snapshotRunning = true
        let startIndex = durableIndex
        Task {
            let rotated: Bool
            do throws(StorageError) {
                rotated = try await log.rotate()
            } catch {
                self.flushing = false
                self.flushIfIdle()
                self.snapshotEnded(error)
                return
            }
            self.logRotated(rotated)
            do throws(StorageError) {
                try await Self.writeSnapshot(of: self, startIndex: startIndex, log: log)
                self.snapshotEnded(nil)
            } catch {
                self.snapshotEnded(error)
            }
        }
    }

    private func logRotated(_ rotated: Bool) {
        if rotated { logBytes = 0 }
        flushing = false
        flushIfIdle()
    }

    private func snapshotEnded(_ error: StorageError?) {
        snapshotRunning = false
        if let error {
            guard !closing else { return }
            snapshotFailedAtLogBytes = logBytes
            if error.fatal { Self.stop(because: error.message) }
            Self.say("could not write a snapshot: \(error.message); the log keeps every write meanwhile, and the snapshot is tried again later")
        } else {
            snapshotFailedAtLogBytes = nil
        }
    }

    /// Runs outside the actor: only taking each piece is an actor turn; encoding and writing are not.
    private static func writeSnapshot(of store: ServerStore, startIndex: UInt64, log: WriteAheadLog) async throws(StorageError) {
        let writer = try SnapshotWriter(directory: log.directory)
        do throws(StorageError) {
            try await writer.write(SnapshotFormat.header(startIndex: startIndex))
            var after: String?
            while true {
                guard let piece = await store.durablePiece(after: after, limit: snapshotPieceKeys) else {
                    throw StorageError("the server is stopping")
                }
                if !piece.entries.isEmpty { try await writer.write(SnapshotFormat.entries(piece.entries)) }
                guard let next = piece.next else { break }
                after = next
            }
            let tables: [UInt8]
            do {
                tables = try SnapshotFormat.tables(await store.durableTables())
            } catch {
                throw StorageError("cannot encode the snapshot's tables: \(error)")
            }
            try await writer.write(tables)
            try await writer.finish()
        } catch {
            await writer.abandon()
            throw error
        }
        try await log.dropCoveredFiles()
    }

    /// The durable entries after `after` (the next `limit` keys of the table, with any key that
    /// has a write in flight as it was before it). `next` is where the following piece starts;
    /// nil when this was the last. Nil when the server is stopping.
    func durablePiece(after: String?, limit: Int) -> (entries: [KVEntry], next: String?)? {
        guard !closing else { return nil }
        let current = state.kv.entries(after: after, limit: limit)
        let next = current.count < limit ? nil : current.last?.key
        let originals = pendingOriginalKeys
        guard !originals.isEmpty else { return (current, next) }
        var entries = current.filter { originals[ByteKey($0.key)] == nil }
        for saved in originals.values {
            guard let entry = saved.entry else { continue }
            let afterStart = after.map { $0.sortsBefore(entry.key) } ?? true
            let beforeEnd = next.map { !$0.sortsBefore(entry.key) } ?? true
            if afterStart, beforeEnd { entries.append(entry) }
        }
        entries.sort { $0.key.sortsBefore($1.key) }
        return (entries, next)
    }

    /// Sessions, catalog, ACL and tombstones as durable now.
    func durableTables() -> SnapshotFormat.Tables {
        var durable = state
        for (_, undo) in pending.reversed() {
            for restore in undo.restores {
                switch restore {
                case .key: break
                default: durable.revertPart(restore)
                }
            }
        }
        var tombstones = Dictionary(state.kv.tombstoneList.map { (ByteKey($0.key), $0.index) }, uniquingKeysWith: { $1 })
        for (key, saved) in pendingOriginalKeys { tombstones[key] = saved.tombstone }
        return SnapshotFormat.Tables(
            catalogIndex: pending.first?.undo.catalogIndex ?? state.catalogIndex,
            sessionsIndex: pending.first.map { $0.undo.sessionsIndex ?? durable.sessionsIndex } ?? state.sessionsIndex,
            sessions: durable.sessions.values.sorted { $0.createIndex < $1.createIndex },
            catalog: durable.catalog.values.sorted { $0.name < $1.name },
            policies: durable.policies.values.sorted { $0.id < $1.id },
            tokens: durable.tokens.values.sorted { $0.createIndex < $1.createIndex },
            tombstones: tombstones.map { SnapshotFormat.Tombstone(key: $0.key.string, index: $0.value) }.sorted { $0.key.sortsBefore($1.key) },
            reapedFloor: state.kv.reapedIndexFloor)
    }

    /// For each key a write in flight touches: what it was before the first of them.
    private var pendingOriginalKeys: [ByteKey: KVTable.SavedKey] {
        var originals: [ByteKey: KVTable.SavedKey] = [:]
        for (_, undo) in pending {
            for case .key(let saved) in undo.restores where originals[ByteKey(saved.key)] == nil {
                originals[ByteKey(saved.key)] = saved
            }
        }
        return originals
    }
}
