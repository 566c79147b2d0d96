import Foundation
import KV
import Synchronization

/// The wait before an output's command (`splay`): a random share of the bound, so a fleet that
/// received a change in the same second does not reload in the same second. It ends early when
/// the renderer stops; the command then stays owed and runs at the next start.
struct SplayWait: Sendable {
    let clock: ServiceClock
    let stop: StopSignal

    static let none = SplayWait(clock: .continuous, stop: StopSignal())

    /// Waits up to `bound` (uniformly at random); false when the renderer is stopping.
    func wait(upTo bound: Duration) async -> Bool {
        guard bound > .zero else { return !stop.isFired }
        let delay = bound * Double.random(in: 0...1)
        let clock = clock
        let stop = stop
        return await withTaskGroup(of: Bool.self) { group in
            group.addTask { (try? await clock.sleep(for: delay)) != nil && !stop.isFired }
            group.addTask {
                await stop.wait()
                return false
            }
            let slept = await group.next() ?? false
            group.cancelAll()
            return slept
        }
    }
}

/// Fired once when the renderer stops; waiters wake at once (and on their own cancellation).
final class StopSignal: Sendable {
    private let state = Mutex<(fired: Bool, waiters: [UUID: CheckedContinuation<Void, Never>])>((false, [:]))

    var isFired: Bool { state.withLock { $0.fired } }

    func fire() {
        let waiters = state.withLock { state in
            state.fired = true
            defer { state.waiters = [:] }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.resume() }
    }

    func wait() async {
        let id = UUID()
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state in
                    if state.fired || Task.isCancelled { return true }
                    state.waiters[id] = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { $0.waiters.removeValue(forKey: id) }
            waiter?.resume()
        }
    }
}
