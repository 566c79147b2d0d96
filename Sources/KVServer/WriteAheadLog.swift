import Crypto
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The data directory: `snapshot.json` (the whole state at some index) and `wal.log` (every
/// change after it). Each log record is framed as length (4 bytes, little endian), the first
/// 8 bytes of the payload's SHA-256, and the payload; a torn record at the end is dropped.
/// Blocking file work runs on the log's own queue, never on Swift's cooperative threads.
final class WriteAheadLog: @unchecked Sendable {
    let directory: String
    private let queue = DispatchQueue(label: "git2kv.kv-server.wal")
    private var logDescriptor: Int32
    private let lockDescriptor: Int32

    private var logPath: String { directory + "/wal.log" }
    private var snapshotPath: String { directory + "/snapshot.json" }

    /// Opens (creating if needed) the directory, locking it against a second server.
    init(directory: String) throws(StorageError) {
        self.directory = directory
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw StorageError("cannot create the data directory \(directory): \(error.localizedDescription)")
        }
        lockDescriptor = open(directory + "/LOCK", O_CREAT | O_RDWR | O_CLOEXEC, 0o644)
        guard lockDescriptor >= 0 else { throw StorageError.posix("cannot open \(directory)/LOCK") }
        guard flock(lockDescriptor, LOCK_EX | LOCK_NB) == 0 else {
            close(lockDescriptor)
            throw StorageError("the data directory \(directory) is in use by another kv-server")
        }
        logDescriptor = open(directory + "/wal.log", O_CREAT | O_WRONLY | O_APPEND | O_CLOEXEC, 0o644)
        guard logDescriptor >= 0 else {
            close(lockDescriptor)
            throw StorageError.posix("cannot open \(directory)/wal.log")
        }
    }

    deinit {
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
    }

    /// Reads the snapshot and every complete log record, and cuts a torn tail off the log.
    func recover() throws(StorageError) -> Recovered {
        let snapshot = FileManager.default.contents(atPath: snapshotPath)
        let log = FileManager.default.contents(atPath: logPath) ?? Data()
        var records: [Data] = []
        var offset = 0
        let bytes = [UInt8](log)
        while offset + 12 <= bytes.count {
            let length = Int(UInt32(bytes[offset]) | UInt32(bytes[offset + 1]) << 8 | UInt32(bytes[offset + 2]) << 16 | UInt32(bytes[offset + 3]) << 24)
            let start = offset + 12
            guard start + length <= bytes.count else { break }
            let payload = bytes[start..<start + length]
            guard Array(bytes[offset + 4..<offset + 12]) == Self.checksum(payload) else { break }
            records.append(Data(payload))
            offset = start + length
        }
        let dropped = bytes.count - offset
        if dropped > 0 {
            guard ftruncate(logDescriptor, off_t(offset)) == 0, fsync(logDescriptor) == 0 else {
                throw StorageError.posix("cannot cut the unfinished record off \(logPath)")
            }
        }
        return Recovered(snapshot: snapshot, records: records, droppedBytes: dropped, logBytes: offset)
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
            try self.writeAll(framed, to: self.logDescriptor, path: self.logPath)
            guard fsync(self.logDescriptor) == 0 else { throw StorageError.posix("cannot fsync \(self.logPath)") }
        }
    }

    /// Replaces the snapshot (temp file, fsync, rename, directory fsync), then empties the log,
    /// whose records the snapshot now holds.
    func writeSnapshot(_ snapshot: [UInt8]) async throws(StorageError) {
        try await onQueue { () throws(StorageError) in
            let temporary = self.snapshotPath + ".tmp"
            let descriptor = open(temporary, O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, 0o644)
            guard descriptor >= 0 else { throw StorageError.posix("cannot create \(temporary)") }
            defer { close(descriptor) }
            try self.writeAll(snapshot, to: descriptor, path: temporary)
            guard fsync(descriptor) == 0 else { throw StorageError.posix("cannot fsync \(temporary)") }
            guard rename(temporary, self.snapshotPath) == 0 else { throw StorageError.posix("cannot rename \(temporary)") }
            try self.syncDirectory()
            guard ftruncate(self.logDescriptor, 0) == 0, fsync(self.logDescriptor) == 0 else {
                throw StorageError.posix("cannot empty \(self.logPath) after a snapshot")
            }
        }
    }

    private func syncDirectory() throws(StorageError) {
        let descriptor = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { throw StorageError.posix("cannot open \(directory)") }
        defer { close(descriptor) }
        guard fsync(descriptor) == 0 else { throw StorageError.posix("cannot fsync \(directory)") }
    }

    private func writeAll(_ bytes: [UInt8], to descriptor: Int32, path: String) throws(StorageError) {
        var written = 0
        while written < bytes.count {
            let result = bytes.withUnsafeBytes { buffer in
                write(descriptor, buffer.baseAddress! + written, bytes.count - written)
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
