/// Blocking queries waiting for a key or prefix to change.
struct ChangeWaiters {
    private struct Waiter {
        let key: String
        let prefix: Bool
        let continuation: CheckedContinuation<Void, Never>
    }

    private var waiters: [Int: Waiter] = [:]
    private var lastID = 0

    mutating func nextID() -> Int {
        lastID += 1
        return lastID
    }

    mutating func add(id: Int, key: String, prefix: Bool, continuation: CheckedContinuation<Void, Never>) {
        waiters[id] = Waiter(key: key, prefix: prefix, continuation: continuation)
    }

    /// Resumes one waiter (its deadline passed or its request was cancelled); a no-op if gone.
    mutating func resume(id: Int) {
        waiters.removeValue(forKey: id)?.continuation.resume()
    }

    mutating func resumeAll(affectedBy keys: Set<String>) {
        let woken = waiters.filter { _, waiter in
            waiter.prefix ? keys.contains { $0.hasPrefix(waiter.key) } : keys.contains(waiter.key)
        }
        for (id, waiter) in woken {
            waiters[id] = nil
            waiter.continuation.resume()
        }
    }

}
