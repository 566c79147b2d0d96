import Foundation
import KV

/// The embedded server's data and the only place it changes. Every change is one
/// `ChangeRecord`: applied in memory, appended to the write-ahead log (when there is a data
/// directory), and acknowledged — and blocking queries woken — only once it is on disk.
/// Concurrent writers share one fsync (group commit).
actor ServerStore {
    private(set) var state: ServerState
    let bootstrapToken: String?
    let limits: KVServerLimits
    private var waiters = ChangeWaiters()
    var sessionTimers: [String: Task<Void, Never>] = [:]
    /// When each key's lock delay ends, on `clock`.
    var lockDelays: [ByteKey: Duration] = [:]
    /// Session TTLs and lock delays run on it (tests move a manual clock).
    let clock: ServiceClock

    private let log: WriteAheadLog?
    private var unflushed: [UInt8] = []
    private var wakeWhenDurable = ChangeSet()
    private var durabilityWaiters: [(index: UInt64, continuation: CheckedContinuation<Void, Never>)] = []
    private var flushing = false
    private var logBytes = 0
    /// The highest index whose record is on disk (with a data directory).
    private var durableIndex: UInt64 = 0

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
        let decoder = JSONDecoder()
        if let snapshot = recovered.snapshot {
            do {
                state = try decoder.decode(ServerState.self, from: snapshot)
            } catch {
                throw StorageError("the snapshot in \(directory) is unreadable (\(error)); move it away to start empty")
            }
        }
        for (position, payload) in recovered.records.enumerated() {
            do {
                let record = try decoder.decode(ChangeRecord.self, from: payload)
                if record.index > state.index { state.apply(record) }
            } catch {
                throw StorageError("record \(position + 1) of \(directory)/wal.log is unreadable although its checksum matches: \(error)")
            }
        }
        self.state = recovered.snapshot == nil && recovered.records.isEmpty ? ServerState.fresh() : state
        durableIndex = self.state.index
        self.log = log
        self.limits = limits
        self.bootstrapToken = bootstrapToken
        logBytes = recovered.logBytes
        if recovered.droppedRecords > 0 {
            FileHandle.standardError.write(
                Data(
                    "kv-server: --recover: \(directory)/wal.log was damaged after record \(recovered.records.count); kept the \(recovered.records.count) records before it, dropped the damaged one and the \(recovered.droppedRecords) valid records after it (\(recovered.droppedBytes) bytes)\n"
                        .utf8))
        } else if recovered.droppedBytes > 0 {
            FileHandle.standardError.write(Data("kv-server: removed \(recovered.droppedBytes) bytes of an unacknowledged write from the end of \(directory)/wal.log\n".utf8))
        }
    }

    /// Starts the TTL clocks of sessions that survived a restart (Consul does the same on a new leader).
    func startSessionClocks() {
        for session in state.sessions.values { scheduleExpiry(of: session) }
    }

    /// Stops the session clocks and closes the data directory.
    func close() async {
        for timer in sessionTimers.values { timer.cancel() }
        sessionTimers = [:]
        await log?.shutDown()
    }

    // MARK: Committing

    /// Applies `changes` at the next index and returns once they are durable.
    @discardableResult
    func commit(_ changes: [StateChange]) async -> UInt64 {
        guard !changes.isEmpty else {
            // A transaction that only read: what it read is answered once it is on disk.
            await durable(upTo: state.index)
            return state.index
        }
        let record = ChangeRecord(index: state.index + 1, changes: changes)
        state.apply(record)
        guard log != nil else {
            waiters.resumeAll(concernedBy: ChangeSet(record))
            return record.index
        }
        do {
            unflushed += WriteAheadLog.frame(Array(try JSONEncoder().encode(record)))
        } catch {
            Self.stop(because: "cannot encode change \(record.index): \(error)")
        }
        wakeWhenDurable.merge(ChangeSet(record))
        await withCheckedContinuation { continuation in
            durabilityWaiters.append((record.index, continuation))
            flushIfIdle()
        }
        return record.index
    }

    private func flushIfIdle() {
        guard let log, !flushing, !unflushed.isEmpty else { return }
        flushing = true
        let batch = unflushed
        unflushed = []
        let upTo = state.index
        let wake = wakeWhenDurable
        wakeWhenDurable = ChangeSet()
        var snapshot: [UInt8]?
        if logBytes + batch.count > limits.snapshotAfterLogBytes {
            do {
                snapshot = Array(try JSONEncoder().encode(state))
            } catch {
                Self.stop(because: "cannot encode a snapshot: \(error)")
            }
        }
        Task {
            do {
                if let snapshot { try await log.writeSnapshot(snapshot) } else { try await log.append(batch) }
            } catch {
                Self.stop(because: "cannot write to the data directory: \(error)")
            }
            self.flushed(upTo: upTo, wake: wake, bytes: snapshot == nil ? batch.count : nil)
        }
    }

    /// Returns once every change up to `index` is on disk. Reads call it after taking their
    /// answer, so nothing they answer can be lost by a crash (as Consul serves only committed
    /// data); with writes in flight a read waits for their flush, otherwise not at all.
    func durable(upTo index: UInt64) async {
        guard log != nil, durableIndex < index else { return }
        await withCheckedContinuation { continuation in
            durabilityWaiters.append((index, continuation))
            flushIfIdle()
        }
    }

    private func flushed(upTo index: UInt64, wake: ChangeSet, bytes: Int?) {
        durableIndex = max(durableIndex, index)
        logBytes = bytes.map { logBytes + $0 } ?? 0
        let done = durabilityWaiters.filter { $0.index <= index }
        durabilityWaiters.removeAll { $0.index <= index }
        for waiter in done { waiter.continuation.resume() }
        waiters.resumeAll(concernedBy: wake)
        flushing = false
        flushIfIdle()
    }

    /// A write that cannot reach the disk must not be acknowledged or served: stop, loudly.
    private static func stop(because reason: String) -> Never {
        FileHandle.standardError.write(Data("kv-server: \(reason); stopping so that no unsaved write is served\n".utf8))
        exit(74)
    }

    // MARK: Blocking queries

    /// Suspends until `topic` changes, the deadline passes, or the request is cancelled.
    func waitForChange(of topic: WatchTopic, until deadline: ContinuousClock.Instant) async {
        let id = waiters.nextID()
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                if Task.isCancelled || isLeaving {
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
