import Crypto
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The data directory: `snapshot.json` (the whole state at some index) and `wal.log` (every
/// change after it). Each log record is framed as length (4 bytes, little endian), the first
/// 8 bytes of the payload's SHA-256, and the payload; a torn record at the end is dropped.
/// The log is preallocated (zero-filled) so that appends do not change the file's size and
/// `fdatasync` has no size to record; replay stops at the first zero length.
/// Blocking file work runs on the log's own queue, never on Swift's cooperative threads.
final class WriteAheadLog: @unchecked Sendable {
    let directory: String
    private let queue = DispatchQueue(label: "git2kv.kv-server.wal")
    private var logDescriptor: Int32
    private let lockDescriptor: Int32
    private let preallocation: Int
    /// Injected before each fsync (a slow disk, for tests); zero in service.
    private let slowFlush: Duration
    private var writeOffset = 0
    private var allocated = 0

    private var logPath: String { directory + "/wal.log" }
    private var snapshotPath: String { directory + "/snapshot.json" }

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
        for file in ["snapshot.json", "snapshot.json.tmp"] where FileManager.default.fileExists(atPath: directory + "/" + file) {
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
            queue.async {
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
        var snapshot: Data?
        var records: [Data]
        /// Bytes of an unfinished write at the end of the log, now removed.
        var droppedBytes: Int
        var logBytes: Int
        /// With `--recover`: the valid records found after a damaged one, dropped with it.
        var droppedRecords = 0
    }

    /// Reads the snapshot and every complete log record. A torn record at the end (all a crash
    /// can leave) is cut off. A damaged record with valid ones after it is not a crash: the
    /// start-up stops and says where, unless `dropAfterCorruption` (`--recover`) keeps what
    /// precedes it and drops the rest, saying how much.
    func recover(dropAfterCorruption: Bool = false) throws(StorageError) -> Recovered {
        let snapshot = FileManager.default.contents(atPath: snapshotPath)
        let log = FileManager.default.contents(atPath: logPath) ?? Data()
        let bytes = [UInt8](log)
        var records: [Data] = []
        var offset = 0
        while let end = Self.frameEnd(in: bytes, at: offset) {
            records.append(Data(bytes[(offset + 12)..<end]))
            offset = end
        }
        let tail = bytes[offset...]
        let dropped = tail.allSatisfy { $0 == 0 } ? 0 : tail.count
        var droppedRecords = 0
        if dropped > 0, let later = Self.laterRecords(in: bytes, after: offset) {
            guard dropAfterCorruption else {
                throw StorageError(
                    "\(logPath) is damaged at offset \(offset) (record \(records.count + 1)): it fails its checksum, yet \(later.count) valid records "
                        + "follow from offset \(later.firstOffset); that is not a crash's torn write but damage, and starting would lose them. "
                        + "Restore the data directory from a backup, or start with --recover to keep the \(records.count) records before it and drop the rest")
            }
            droppedRecords = later.count
        }
        if dropped > 0 {
            // Cut the damaged or unfinished write off, so that no stale bytes can ever follow a new record.
            guard ftruncate(logDescriptor, off_t(offset)) == 0, fsync(logDescriptor) == 0 else {
                throw StorageError.posix("cannot cut the unfinished record off \(logPath)")
            }
        }
        writeOffset = offset
        allocated = dropped > 0 ? offset : bytes.count
        try ensureAllocated(upTo: offset)
        return Recovered(snapshot: snapshot, records: records, droppedBytes: dropped, logBytes: offset, droppedRecords: droppedRecords)
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
    func append(_ framed: [UInt8]) async throws(StorageError) {
        try await onQueue { () throws(StorageError) in
            guard !self.closed else { throw StorageError("\(self.logPath) is closed: the server is stopping") }
            try self.ensureAllocated(upTo: self.writeOffset + framed.count)
            try self.writeAll(framed, to: self.logDescriptor, at: self.writeOffset, path: self.logPath)
            if self.slowFlush > .zero { usleep(UInt32(self.slowFlush.components.seconds * 1_000_000 + self.slowFlush.components.attoseconds / 1_000_000_000_000)) }
            guard fdatasync(self.logDescriptor) == 0 else { throw StorageError.posix("cannot fsync \(self.logPath)") }
            self.writeOffset += framed.count
        }
    }

    /// Replaces the snapshot (temp file, fsync, rename, directory fsync), then empties the log,
    /// whose records the snapshot now holds.
    func writeSnapshot(_ snapshot: [UInt8]) async throws(StorageError) {
        try await onQueue { () throws(StorageError) in
            guard !self.closed else { throw StorageError("\(self.logPath) is closed: the server is stopping") }
            let temporary = self.snapshotPath + ".tmp"
            let descriptor = open(temporary, O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, 0o600)
            guard descriptor >= 0 else { throw StorageError.posix("cannot create \(temporary)") }
            defer { close(descriptor) }
            try self.writeAll(snapshot, to: descriptor, at: 0, path: temporary)
            guard fsync(descriptor) == 0 else { throw StorageError.posix("cannot fsync \(temporary)") }
            guard rename(temporary, self.snapshotPath) == 0 else { throw StorageError.posix("cannot rename \(temporary)") }
            try self.syncDirectory()
            guard ftruncate(self.logDescriptor, 0) == 0, fsync(self.logDescriptor) == 0 else {
                throw StorageError.posix("cannot empty \(self.logPath) after a snapshot")
            }
            self.writeOffset = 0
            self.allocated = 0
            try self.ensureAllocated(upTo: 0)
        }
    }

    private func syncDirectory() throws(StorageError) {
        let descriptor = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { throw StorageError.posix("cannot open \(directory)") }
        defer { close(descriptor) }
        guard fsync(descriptor) == 0 else { throw StorageError.posix("cannot fsync \(directory)") }
    }

    /// Extends the zero-filled part of the log past `end`, and makes the new size durable.
    private func ensureAllocated(upTo end: Int) throws(StorageError) {
        guard end > allocated || allocated == 0 else { return }
        let target = end + preallocation
        guard posix_fallocate(logDescriptor, 0, off_t(target)) == 0, fsync(logDescriptor) == 0 else {
            throw StorageError.posix("cannot allocate \(target) bytes for \(logPath)")
        }
        allocated = target
    }

    private func writeAll(_ bytes: [UInt8], to descriptor: Int32, at offset: Int, path: String) throws(StorageError) {
        var written = 0
        while written < bytes.count {
            let result = bytes.withUnsafeBytes { buffer in
                pwrite(descriptor, buffer.baseAddress! + written, bytes.count - written, off_t(offset + written))
            }
            if result < 0 {
                if errno == EINTR { continue }
                throw StorageError.posix("cannot write \(path)")
            }
            written += result
        }
    }

    private func onQueue(_ work: @escaping @Sendable () throws(StorageError) -> Void) async throws(StorageError) {
        let result: Result<Void, StorageError> = await withCheckedContinuation { continuation in
            queue.async {
                do throws(StorageError) {
                    try work()
                    continuation.resume(returning: .success(()))
                } catch {
                    continuation.resume(returning: .failure(error))
                }
            }
        }
        try result.get()
    }
}

/// The data directory cannot be used: says which file and why.
public struct StorageError: Error, Sendable, CustomStringConvertible {
    public let message: String

    init(_ message: String) { self.message = message }

    static func posix(_ what: String) -> StorageError {
        StorageError("\(what): \(String(cString: strerror(errno)))")
    }

    public var description: String { message }
}
