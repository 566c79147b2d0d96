import Crypto
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Writes `snapshot.bin` piece by piece on a queue of its own (so a long snapshot never queues
/// behind or in front of the log's fsyncs): into a temporary file, checksummed as it goes, then
/// fsynced and renamed over the old snapshot.
final class SnapshotWriter: @unchecked Sendable {
    private let queue = FileQueue(label: "git2kv.kv-server.snapshot")
    private let directory: String
    private let descriptor: Int32
    private var hasher = SHA256()
    private var offset = 0

    private var temporaryPath: String { directory + "/" + SnapshotFormat.fileName + ".tmp" }

    init(directory: String) throws(StorageError) {
        self.directory = directory
        descriptor = open(directory + "/" + SnapshotFormat.fileName + ".tmp", O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw StorageError.posix("cannot create \(directory)/\(SnapshotFormat.fileName).tmp") }
    }

    deinit {
        close(descriptor)
    }

    func write(_ bytes: [UInt8]) async throws(StorageError) {
        try await queue.run { () throws(StorageError) in
            try FileQueue.writeAll(bytes, to: self.descriptor, at: self.offset, path: self.temporaryPath)
            self.hasher.update(data: bytes)
            self.offset += bytes.count
        }
    }

    /// Seals the file with its checksum and makes it the snapshot.
    func finish() async throws(StorageError) {
        try await queue.run { () throws(StorageError) in
            let checksum = Array(self.hasher.finalize())
            try FileQueue.writeAll(checksum, to: self.descriptor, at: self.offset, path: self.temporaryPath)
            guard fsync(self.descriptor) == 0 else { throw StorageError.posix("cannot fsync \(self.temporaryPath)") }
            guard rename(self.temporaryPath, self.directory + "/" + SnapshotFormat.fileName) == 0 else {
                throw StorageError.posix("cannot rename \(self.temporaryPath)")
            }
        }
    }

    /// Gives up (the disk is full, or the server stops): the old snapshot and logs stay as they were.
    func abandon() async {
        try? await queue.run { () throws(StorageError) in
            unlink(self.temporaryPath)
        }
    }
}
