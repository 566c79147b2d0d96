import Foundation
import KV

/// The embedded server's data and the only place it changes. Every change is one
/// `ChangeRecord`: applied in memory, appended to the write-ahead log (when there is a data
/// directory), and acknowledged — and blocking queries woken — only once it is on disk.
/// Concurrent writers share one fsync (group commit). A write the disk refuses (it is full) is
/// taken back, with every write applied after it, and answered with an error; reads go on.
actor ServerStore {
    var state: ServerState
    let bootstrapToken: String?
    let limits: KVServerLimits
    private var waiters = ChangeWaiters()
    var sessionTimers: [String: Task<Void, Never>] = [:]
    /// The TTL clocks of this server's own node's TTL checks, by check ID.
    var checkTimers: [String: Task<Void, Never>] = [:]
    /// When each key's lock delay ends, on `clock`.
    var lockDelays: [ByteKey: Duration] = [:]
    /// Session TTLs and lock delays run on it (tests move a manual clock).
    let clock: ServiceClock

    let log: WriteAheadLog?
    private var unflushed: [UInt8] = []
    private var wakeWhenDurable = ChangeSet()
    private var durabilityWaiters: [(index: UInt64, continuation: CheckedContinuation<Bool, Never>)] = []
    /// A flush (or a log rotation) is in progress; the next batch waits for it.
    var flushing = false
    var logBytes = 0
    /// The highest index whose record is on disk (with a data directory).
    private(set) var durableIndex: UInt64 = 0
    /// How to take back each record applied in memory but not yet on disk, oldest first.
    private(set) var pending: [(index: UInt64, undo: StateUndo)] = []
    /// Why the last flush failed, until one succeeds (said once each way on standard error).
    private var refusal: StorageError?
    /// Set while a snapshot is being written in the background.
    var snapshotRunning = false
    /// The log's size when a snapshot last failed: the next try waits for a quarter of the limit more.
    var snapshotFailedAtLogBytes: Int?
    /// Set when the server stops: a snapshot in progress is abandoned.
    var closing = false
    /// Which nodes provide each service, as of a catalog index (rebuilt when the catalog moved),
    /// so a read of one service visits its nodes only.
    var serviceProviders: (catalogIndex: UInt64, nodes: [String: [String]])?

    /// In memory: nothing survives a restart.
    init(limits: KVServerLimits = KVServerLimits(), bootstrapToken: String? = nil, clock: ServiceClock = .continuous) {
        self.clock = clock
        state = ServerState.fresh()
        log = nil
        self.limits = limits
        self.bootstrapToken = bootstrapToken
    }

    /// Durable: state is rebuilt from the snapshot and log in `directory`.
    init(
        directory: String, limits: KVServerLimits = KVServerLimits(), bootstrapToken: String? = nil, clock: ServiceClock = .continuous,
        recoverDamagedLog: Bool = false
    ) throws(StorageError) {
        self.clock = clock
        let log = try WriteAheadLog(directory: directory, preallocation: limits.logPreallocationBytes, slowFlush: limits.slowFlush)
        let recovered = try log.recover(dropAfterCorruption: recoverDamagedLog)
        var state = ServerState()
        switch recovered.snapshot {
        case .binary(let bytes)?: state = try SnapshotFormat.decode(bytes, path: log.snapshotPath)
        case .legacyJSON(let json)?:
            do {
                state = try JSONDecoder().decode(ServerState.self, from: json)
            } catch {
                throw StorageError("the snapshot \(log.legacySnapshotPath) is unreadable (\(error)); move it away to start empty")
            }
        case nil: break
        }
        let decoder = JSONDecoder()
        state.kv.startReplay()
        for (position, payload) in recovered.records.enumerated() {
            do {
                let record = try decoder.decode(ChangeRecord.self, from: payload)
                if record.index > state.index { state.replay(record) }
            } catch {
                throw StorageError("record \(position + 1) of the log in \(directory) is unreadable although its checksum matches: \(error)")
            }
        }
        state.kv.finishReplay()
        self.state = recovered.snapshot == nil && recovered.records.isEmpty ? ServerState.fresh() : state
        durableIndex = self.state.index
        self.log = log
        self.limits = limits
        self.bootstrapToken = bootstrapToken
        logBytes = recovered.logBytes
        if recovered.droppedRecords > 0 {
            Self.say(
                "--recover: the log in \(directory) was damaged after record \(recovered.records.count); kept the \(recovered.records.count) records before it, dropped the damaged one and the \(recovered.droppedRecords) valid records after it (\(recovered.droppedBytes) bytes)"
            )
        } else if recovered.droppedBytes > 0 {
            Self.say("removed \(recovered.droppedBytes) bytes of an unacknowledged write from the end of \(directory)/wal.log")
        }
    }

    /// Starts the TTL clocks of sessions that survived a restart (Consul does the same on a new leader).
    func startSessionClocks() {
        for session in state.sessions.values { scheduleExpiry(of: session) }
    }

    /// Stops the session clocks and closes the data directory.
    func close() async {
        closing = true
        for timer in sessionTimers.values { timer.cancel() }
        sessionTimers = [:]
        for timer in checkTimers.values { timer.cancel() }
        checkTimers = [:]
        await log?.shutDown()
    }

    static func say(_ message: String) {
        FileHandle.standardError.write(Data("kv-server: \(message)\n".utf8))
    }

    // MARK: Committing

    /// Applies `changes` at the next index and returns once they are durable. Throws when the
    /// disk refused them: nothing was acknowledged and the state is as before.
    @discardableResult
    func commit(_ changes: [StateChange]) async throws(StorageError) -> UInt64 {
        guard !changes.isEmpty else {
            // A transaction that only read: what it read is answered once it is on disk.
            guard await durable(upTo: state.index) else { throw refusal ?? StorageError("a write this read saw could not be saved") }
            return state.index
        }
        let record = ChangeRecord(index: state.index + 1, changes: changes)
        let undo = state.apply(record)
        guard log != nil else {
            waiters.resumeAll(concernedBy: ChangeSet(record))
            return record.index
        }
        do {
            unflushed += WriteAheadLog.frame(Array(try JSONEncoder().encode(record)))
        } catch {
            Self.stop(because: "cannot encode change \(record.index): \(error)")
        }
        pending.append((record.index, undo))
        wakeWhenDurable.merge(ChangeSet(record))
        let saved = await withCheckedContinuation { continuation in
            durabilityWaiters.append((record.index, continuation))
            flushIfIdle()
        }
        guard saved else { throw refusal ?? StorageError("the write could not be saved") }
        return record.index
    }

    func flushIfIdle() {
        guard let log, !flushing, !unflushed.isEmpty else { return }
        flushing = true
        let batch = unflushed
        unflushed = []
        let upTo = state.index
        let wake = wakeWhenDurable
        wakeWhenDurable = ChangeSet()
        Task {
            do throws(StorageError) {
                try await log.append(batch)
                self.flushed(upTo: upTo, wake: wake, bytes: batch.count)
            } catch {
                self.flushFailed(error)
            }
        }
    }

    /// Returns once every change up to `index` is on disk: true, or false when a flush failed and
    /// those changes were taken back. Reads call it after taking their answer and take it again
    /// on false, so nothing they answer can be lost by a crash (as Consul serves only committed
    /// data); with writes in flight a read waits for their flush, otherwise not at all.
    func durable(upTo index: UInt64) async -> Bool {
        guard log != nil, durableIndex < index else { return true }
        return await withCheckedContinuation { continuation in
            durabilityWaiters.append((index, continuation))
            flushIfIdle()
        }
    }

    private func flushed(upTo index: UInt64, wake: ChangeSet, bytes: Int) {
        durableIndex = max(durableIndex, index)
        logBytes += bytes
        pending.removeAll { $0.index <= index }
        let done = durabilityWaiters.filter { $0.index <= index }
        durabilityWaiters.removeAll { $0.index <= index }
        for waiter in done { waiter.continuation.resume(returning: true) }
        waiters.resumeAll(concernedBy: wake)
        if let refusal {
            Self.say("writes are accepted again (\(refusal.message) no longer holds)")
            self.refusal = nil
        }
        if snapshotDue {
            startSnapshot()  // it holds `flushing` until the log is rotated
        } else {
            flushing = false
            flushIfIdle()
        }
    }

    /// The disk refused a batch: every record not yet durable is taken back (later ones were
    /// decided on top of the refused ones), and each writer and read waiting on them is told.
    private func flushFailed(_ error: StorageError) {
        if error.fatal { Self.stop(because: error.message) }
        if refusal == nil { Self.say("refusing writes: \(error.message); reads go on, and writes resume once the disk takes them") }
        refusal = error
        for (_, undo) in pending.reversed() { state.revert(undo) }
        pending = []
        unflushed = []
        wakeWhenDurable = ChangeSet()
        let failed = durabilityWaiters
        durabilityWaiters = []
        for waiter in failed { waiter.continuation.resume(returning: false) }
        // A destroyed session that came back needs its TTL clock again.
        for session in state.sessions.values where sessionTimers[session.id] == nil { scheduleExpiry(of: session) }
        flushing = false
    }

    /// A write that cannot reach the disk must not be acknowledged or served: stop, loudly.
    static func stop(because reason: String) -> Never {
        say("\(reason); stopping so that no unsaved write is served")
        exit(74)
    }

    // MARK: Blocking queries

    /// Where the announcements of changes stand; a blocking query takes it before its answer.
    var changesAnnounced: UInt64 { waiters.announced }

    /// Suspends until `topic` changes, the deadline passes, or the request is cancelled. Returns
    /// at once when a change was announced since `seen` (taken before the caller's answer): the
    /// caller's answer may predate it, and the wake-up went out before this wait was registered.
    func waitForChange(of topic: WatchTopic, after seen: UInt64, until deadline: ContinuousClock.Instant) async {
        let id = waiters.nextID()
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                if Task.isCancelled || isLeaving || waiters.announced != seen {
                    continuation.resume()
                    return
                }
                let timer = Task { [weak self] in
                    try? await Task.sleep(until: deadline, clock: .continuous)
                    await self?.endWait(id)
                }
                waiters.add(id: id, topic: topic, continuation: continuation, timer: timer)
            }
        } onCancel: {
            Task { [weak self] in await self?.endWait(id) }
        }
    }

    private func endWait(_ id: Int) {
        waiters.resume(id: id)
    }

    /// Set when the server is stopping: blocking queries answer at once with what they have.
    private(set) var isLeaving = false

    /// Ends every blocking query now (each answers with the current index, as Consul does when
    /// an agent leaves) and makes new ones answer without waiting, so the server can stop.
    func endBlockingQueries() {
        isLeaving = true
        waiters.resumeEveryone()
    }

    var waitingQueries: Int { waiters.count }

    var currentIndex: UInt64 { state.index }
}
