import Dispatch

/// Runs one repository actor's jobs on its own dispatch queue, so that blocking libgit2 calls
/// (network, disk) never occupy a thread of Swift's cooperative pool.
final class GitQueueExecutor: SerialExecutor, @unchecked Sendable {
    private static let labelKey = DispatchSpecificKey<String>()
    private let queue: DispatchQueue

    init(label: String) {
        queue = DispatchQueue(label: label)
        queue.setSpecific(key: Self.labelKey, value: label)
    }

    /// The label of the repository queue the caller runs on; nil elsewhere.
    static var currentLabel: String? { DispatchQueue.getSpecific(key: labelKey) }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = asUnownedSerialExecutor()
        queue.async { job.runSynchronously(on: executor) }
    }

    func asUnownedSerialExecutor() -> UnownedSerialExecutor {
        UnownedSerialExecutor(ordinary: self)
    }
}
