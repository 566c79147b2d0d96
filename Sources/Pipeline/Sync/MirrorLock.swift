import Foundation

/// Keeps two git2kv processes on one machine from fetching into the same mirror at once
/// (libgit2 would fail on the other's reference locks): an flock on `<mirror>.lock`, waited
/// for without blocking a thread. Released when the process exits, even by kill -9.
final class MirrorLock: Sendable {
    private let descriptor: Int32

    private init(descriptor: Int32) {
        self.descriptor = descriptor
    }

    static func acquire(_ path: String, timeout: Duration = .seconds(600)) async throws(SyncError) -> MirrorLock {
        let descriptor = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw SyncError(.git, "cannot open \(path): \(String(cString: strerror(errno)))") }
        let deadline = ContinuousClock.now + timeout
        while flock(descriptor, LOCK_EX | LOCK_NB) != 0 {
            guard ContinuousClock.now < deadline else {
                close(descriptor)
                throw SyncError(.git, "\(path) stayed locked by another git2kv process for \(timeout)")
            }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return MirrorLock(descriptor: descriptor)
    }

    deinit {
        flock(descriptor, LOCK_UN)
        close(descriptor)
    }
}
