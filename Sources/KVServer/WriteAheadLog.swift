import Crypto
import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The data directory: `snapshot.bin` (the whole state as of some index, see `SnapshotFormat`)
/// and `wal.log` (every change after it). Each log record is framed as length (4 bytes, little
/// endian), the first 8 bytes of the payload's SHA-256, and the payload; a torn record at the end
/// is dropped. While a snapshot is being written the log is rotated: `wal.previous.log` holds
/// what the snapshot will cover, and goes once the snapshot is durable.
/// The log is preallocated (zero-filled) so that appends do not change the file's size and
/// `fdatasync` has no size to record; replay stops at the first zero length. When the disk is
/// too full for that spare space, the log takes just what each write needs, and a write with no
/// room at all fails (nothing acknowledged) until space returns.
/// Blocking file work runs on the log's own queue, never on Swift's cooperative threads.
final class WriteAheadLog: @unchecked Sendable {
    let directory: String
    private let queue = FileQueue(label: "git2kv.kv-server.wal")
    private var logDescriptor: Int32
    private let lockDescriptor: Int32
    private let preallocation: Int
    /// Injected before each fsync (a slow disk, for tests); zero in service.
    private let slowFlush: Duration
    private var writeOffset = 0
    private var allocated = 0

    var logPath: String { directory + "/wal.log" }
    var previousLogPath: String { directory + "/wal.previous.log" }
    var snapshotPath: String { directory + "/" + SnapshotFormat.fileName }
    var legacySnapshotPath: String { directory + "/snapshot.json" }

    /// Opens (creating if needed) the directory, locking it against a second server. The
    /// directory is 0700 and its files 0600 (they hold every ACL token's secret); an older data
    /// directory with wider modes is narrowed.
    init(directory: String, preallocation: Int = 16 << 20, slowFlush: Duration = .zero) throws(StorageError) {
        self.directory = directory
        self.preallocation = preallocation
        self.slowFlush = slowFlush
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw StorageError("cannot create the data directory \(directory): \(error.localizedDescription)")
        }
        guard chmod(directory, 0o700) == 0 else { throw StorageError.posix("cannot make \(directory) private (mode 0700)") }
        for file in ["snapshot.json", "snapshot.json.tmp", SnapshotFormat.fileName, "wal.previous.log"] where FileManager.default.fileExists(atPath: directory + "/" + file) {
            guard chmod(directory + "/" + file, 0o600) == 0 else { throw StorageError.posix("cannot make \(directory)/\(file) private (mode 0600)") }
        }
        lockDescriptor = open(directory + "/LOCK", O_CREAT | O_RDWR | O_CLOEXEC, 0o600)
        guard lockDescriptor >= 0 else { throw StorageError.posix("cannot open \(directory)/LOCK") }
        guard flock(lockDescriptor, LOCK_EX | LOCK_NB) == 0 else {
            close(lockDescriptor)
            throw StorageError("the data directory \(directory) is in use by another kv-server")
        }
        logDescriptor = open(directory + "/wal.log", O_CREAT | O_WRONLY | O_CLOEXEC, 0o600)
        guard logDescriptor >= 0 else {
            close(lockDescriptor)
            throw StorageError.posix("cannot open \(directory)/wal.log")
        }
        guard fchmod(logDescriptor, 0o600) == 0, fchmod(lockDescriptor, 0o600) == 0 else {
            closeFiles()
            throw StorageError.posix("cannot make the files in \(directory) private (mode 0600)")
        }
    }

    deinit {
        closeFiles()
    }

    /// Closes the log and releases the directory lock, after any write in progress; the log
    /// takes no writes afterwards. Called when the server stops, so a new one can open the directory.
    func shutDown() async {
        await withCheckedContinuation { continuation in
            queue.queue.async {
                self.closeFiles()
                continuation.resume()
            }
        }
    }

    private var closed = false

    private func closeFiles() {
        guard !closed else { return }
        closed = true
        close(logDescriptor)
        close(lockDescriptor)
    }

    // MARK: Recovery

    struct Recovered {
        var snapshot: StoredSnapshot?
        /// The rotated-out log's records (a snapshot was being written), then the log's.
        var records: [Data]
        /// Bytes of an unfinished write at the end of the log, now removed.
        var droppedBytes: Int
        var logBytes: Int
        /// With `--recover`: the valid records found after a damaged one, dropped with it.
        var droppedRecords = 0
    }

    enum StoredSnapshot {
        case binary([UInt8])
        /// Written by kv-server before snapshots were binary.
        case legacyJSON(Data)
    }

    /// Reads the snapshot and every complete log record. A torn record at the end (all a crash
    /// can leave) is cut off. A damaged record with valid ones after it is not a crash: the
    /// start-up stops and says where, unless `dropAfterCorruption` (`--recover`) keeps what
    /// precedes it and drops the rest, saying how much.
    func recover(dropAfterCorruption: Bool = false) throws(StorageError) -> Recovered {
        var snapshot: StoredSnapshot?
        if let binary = FileManager.default.contents(atPath: snapshotPath) {
            snapshot = .binary([UInt8](binary))
        } else if let json = FileManager.default.contents(atPath: legacySnapshotPath) {
            snapshot = .legacyJSON(json)
        }
        var records: [Data] = []
        var droppedRecords = 0
        if let previous = FileManager.default.contents(atPath: previousLogPath) {
            let scan = try Self.scan([UInt8](previous), path: previousLogPath, dropAfterCorruption: dropAfterCorruption)
            records = scan.records
            droppedRecords = scan.droppedRecords
            if scan.droppedBytes > 0 || scan.droppedRecords > 0 {
                // What follows a damaged record in the older log cannot be trusted to follow on either.
                guard dropAfterCorruption else {
                    throw StorageError("\(previousLogPath) ends in a damaged record at offset \(scan.end); restore the data directory from a backup, or start with --recover to keep the \(records.count) records before it")
                }
            }
        }
        let bytes = [UInt8](FileManager.default.contents(atPath: logPath) ?? Data())
        let scan = try Self.scan(bytes, path: logPath, dropAfterCorruption: dropAfterCorruption)
        records += scan.records
        droppedRecords += scan.droppedRecords
        if scan.droppedBytes > 0 {
            // Cut the damaged or unfinished write off, so that no stale bytes can ever follow a new record.
            guard ftruncate(logDescriptor, off_t(scan.end)) == 0, fsync(logDescriptor) == 0 else {
                throw StorageError.posix("cannot cut the unfinished record off \(logPath)")
            }
        }
        writeOffset = scan.end
        allocated = scan.droppedBytes > 0 ? scan.end : bytes.count
        // Spare space is welcome, not required: a full disk still starts and serves reads.
        try? reserve(upTo: writeOffset)
        return Recovered(snapshot: snapshot, records: records, droppedBytes: scan.droppedBytes, logBytes: scan.end, droppedRecords: droppedRecords)
    }

    private struct Scan {
        var records: [Data] = []
        /// Where the last whole record ends.
        var end = 0
        var droppedBytes = 0
        var droppedRecords = 0
    }

    private static func scan(_ bytes: [UInt8], path: String, dropAfterCorruption: Bool) throws(StorageError) -> Scan {
        var scan = Scan()
        while let end = frameEnd(in: bytes, at: scan.end) {
            scan.records.append(Data(bytes[(scan.end + 12)..<end]))
            scan.end = end
        }
        let tail = bytes[scan.end...]
        scan.droppedBytes = tail.allSatisfy { $0 == 0 } ? 0 : tail.count
        if scan.droppedBytes > 0, let later = laterRecords(in: bytes, after: scan.end) {
            guard dropAfterCorruption else {
                throw StorageError(
                    "\(path) is damaged at offset \(scan.end) (record \(scan.records.count + 1)): it fails its checksum, yet \(later.count) valid records "
                        + "follow from offset \(later.firstOffset); that is not a crash's torn write but damage, and starting would lose them. "
                        + "Restore the data directory from a backup, or start with --recover to keep the \(scan.records.count) records before it and drop the rest")
            }
            scan.droppedRecords = later.count
        }
        return scan
    }

    /// Where the record framed at `offset` ends, when it is whole and its checksum matches.
    private static func frameEnd(in bytes: [UInt8], at offset: Int) -> Int? {
        guard offset + 12 <= bytes.count else { return nil }
        let length = Int(UInt32(bytes[offset]) | UInt32(bytes[offset + 1]) << 8 | UInt32(bytes[offset + 2]) << 16 | UInt32(bytes[offset + 3]) << 24)
        let start = offset + 12
        guard length > 0, start + length <= bytes.count else { return nil }
        guard Array(bytes[offset + 4..<offset + 12]) == checksum(bytes[start..<start + length]) else { return nil }
        return start + length
    }

    /// Valid records after a damaged one: the first whole, checksummed frame past `offset`, and
    /// how many follow it in a row. Nil when only zeros or garbage follow (a torn tail).
    private static func laterRecords(in bytes: [UInt8], after offset: Int) -> (firstOffset: Int, count: Int)? {
        var position = offset + 1
        while position + 12 <= bytes.count {
            if var end = frameEnd(in: bytes, at: position) {
                let first = position
                var count = 1
                while let next = frameEnd(in: bytes, at: end) {
                    count += 1
                    end = next
                }
                return (first, count)
            }
            position += 1
        }
        return nil
    }

    // MARK: Writing

    static func frame(_ payload: [UInt8]) -> [UInt8] {
        let length = UInt32(payload.count)
        var framed: [UInt8] = [UInt8(length & 0xff), UInt8(length >> 8 & 0xff), UInt8(length >> 16 & 0xff), UInt8(length >> 24)]
        framed += checksum(payload[...])
        framed += payload
        return framed
    }

    private static func checksum(_ payload: ArraySlice<UInt8>) -> [UInt8] {
        Array(SHA256.hash(data: payload).prefix(8))
    }

    /// Appends framed records and fsyncs them: one fsync for every writer waiting on the batch.
    /// A failed write leaves the log as it was (what was written of it is zeroed again), so a
    /// later write can take its place.
    func append(_ framed: [UInt8]) async throws(StorageError) {
        try await queue.run { () throws(StorageError) in
            guard !self.closed else { throw StorageError("\(self.logPath) is closed: the server is stopping") }
            try self.reserve(upTo: self.writeOffset + framed.count)
            do throws(StorageError) {
                try FileQueue.writeAll(framed, to: self.logDescriptor, at: self.writeOffset, path: self.logPath)
                if self.slowFlush > .zero { usleep(UInt32(self.slowFlush.nanosecondsValue / 1000)) }
                guard fdatasync(self.logDescriptor) == 0 else { throw StorageError.posix("cannot fsync \(self.logPath)") }
            } catch {
                try self.unwrite(framed.count, after: error)
                throw error
            }
            self.writeOffset += framed.count
        }
    }

    /// Zeroes a failed write's bytes (inside space already allocated, so this needs none). When
    /// even that fails the log's end is unknown, and no write may be acknowledged again.
    private func unwrite(_ count: Int, after original: StorageError) throws(StorageError) {
        let zeros = [UInt8](repeating: 0, count: count)
        do throws(StorageError) {
            try FileQueue.writeAll(zeros, to: logDescriptor, at: writeOffset, path: logPath)
            guard fdatasync(logDescriptor) == 0 else { throw StorageError.posix("cannot fsync \(logPath)") }
        } catch {
            throw StorageError("\(original.message); then undoing that write failed too: \(error.message); the end of \(logPath) is unknown", fatal: true)
        }
    }

    /// Moves the log aside (to `wal.previous.log`) and starts an empty one, so a snapshot can be
    /// written while writes go on: the snapshot covers the moved log, which goes once the
    /// snapshot is durable. False when an earlier, unfinished snapshot's log is still there
    /// (the new snapshot then covers both).
    func rotate() async throws(StorageError) -> Bool {
        let rotated = Mutex(false)
        try await queue.run { () throws(StorageError) in
            guard !self.closed else { throw StorageError("\(self.logPath) is closed: the server is stopping") }
            guard !FileManager.default.fileExists(atPath: self.previousLogPath) else { return }
            let descriptor = open(self.logPath + ".new", O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0o600)
            guard descriptor >= 0 else { throw StorageError.posix("cannot create \(self.logPath).new") }
            guard rename(self.logPath, self.previousLogPath) == 0 else {
                close(descriptor)
                throw StorageError.posix("cannot move \(self.logPath) aside")
            }
            guard rename(self.logPath + ".new", self.logPath) == 0 else {
                close(descriptor)
                throw StorageError("cannot rename \(self.logPath).new: \(String(cString: strerror(errno))); the data directory needs attention", fatal: true)
            }
            close(self.logDescriptor)
            self.logDescriptor = descriptor
            self.writeOffset = 0
            self.allocated = 0
            try self.syncDirectory()
            try? self.reserve(upTo: 0)
            rotated.withLock { $0 = true }
        }
        return rotated.withLock { $0 }
    }

    /// Removes what a durable snapshot now holds: the moved-aside log and a legacy JSON snapshot.
    func dropCoveredFiles() async throws(StorageError) {
        try await queue.run { () throws(StorageError) in
            unlink(self.previousLogPath)
            unlink(self.legacySnapshotPath)
            try self.syncDirectory()
        }
    }

    func syncDirectory() throws(StorageError) {
        let descriptor = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { throw StorageError.posix("cannot open \(directory)") }
        defer { close(descriptor) }
        guard fsync(descriptor) == 0 else { throw StorageError.posix("cannot fsync \(directory)") }
    }

    /// Makes sure the log's allocated, zero-filled part reaches `end`: with spare space when the
    /// disk has it, or just `end` when it does not. Fails only when `end` itself does not fit.
    private func reserve(upTo end: Int) throws(StorageError) {
        guard end > allocated || allocated == 0 else { return }
        var target = end + preallocation
        var code = posix_fallocate(logDescriptor, 0, off_t(target))
        if code != 0, end > allocated {
            target = end
            code = posix_fallocate(logDescriptor, 0, off_t(target))
        }
        guard code == 0 else {
            if end <= allocated { return }
            throw StorageError(code: code, "cannot make room for \(end - writeOffset) bytes in \(logPath)")
        }
        guard fsync(logDescriptor) == 0 else { throw StorageError.posix("cannot fsync \(logPath)") }
        allocated = target
    }
}
