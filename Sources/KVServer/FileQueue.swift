import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A serial dispatch queue for blocking file calls (write, fsync, rename), awaited from async
/// code so that they never hold one of Swift's cooperative threads.
struct FileQueue: Sendable {
    let queue: DispatchQueue

    init(label: String) {
        queue = DispatchQueue(label: label)
    }

    func run(_ work: @escaping @Sendable () throws(StorageError) -> Void) async throws(StorageError) {
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

    /// Writes all of `bytes` at `offset`, retrying short and interrupted writes.
    static func writeAll(_ bytes: [UInt8], to descriptor: Int32, at offset: Int, path: String) throws(StorageError) {
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
}
