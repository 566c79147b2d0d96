import CLibGit2
import Dispatch

/// libgit2's tree and blob reads free their buffers, but glibc keeps the freed pages of a
/// thread's arena resident (the arena's top stays pinned by a few live allocations), which over
/// thousands of syncs reads as steady growth of a few KB per sync. Trimming after a pass hands
/// those pages back; what is still in use stays where it is.
public enum FreedMemory {
    /// Returns the free pages of every malloc arena to the system. It takes each arena's lock
    /// in turn, so it runs on a dispatch thread, not on Swift's cooperative pool.
    public static func returnToSystem() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            DispatchQueue.global(qos: .utility).async {
                malloc_trim(0)
                continuation.resume()
            }
        }
    }
}
