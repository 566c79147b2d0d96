import Foundation
public import GitKit
public import KV
import Subprocess
import Synchronization

#if canImport(System)
import System
#else
import SystemPackage
#endif

/// Runs each fetch in a child process of the git2kv binary (`git2kv fetch-worker`, still
/// libgit2) and kills it when a deadline passes: libgit2 1.5 has no network timeouts, and a
/// remote that accepts a connection and never answers would hold its repo, and the sync slot it
/// occupies, forever. `stopAll` ends every running fetch at once, for shutdown.
public final class IsolatedFetcher: Sendable {
    /// The program to run as `<executable> fetch-worker`.
    public let executable: String
    private let clock: ServiceClock
    private let running = Mutex<Running>(Running())

    private struct Running {
        var children: [UUID: pid_t] = [:]
        var stopped = false
    }

    /// `executable` defaults to this very binary (`/proc/self/exe` stays valid when the file is
    /// replaced by an upgrade, so parent and worker always speak the same protocol).
    public init(executable: String = "/proc/self/exe", clock: ServiceClock = .continuous) {
        self.executable = executable
        self.clock = clock
    }

    /// Kills every running fetch and refuses new ones: `serve` stops within seconds whatever a
    /// remote is doing. Each stopped fetch fails with an error saying so.
    public func stopAll() {
        let children = running.withLock { state in
            state.stopped = true
            return Array(state.children.values)
        }
        for pid in children { kill(pid, SIGKILL) }
    }

    public func fetch(
        mirror: String, url: String, credentials: GitCredentials, trust: RemoteTrust = RemoteTrust(), timeouts: FetchTimeouts
    ) async throws(GitError) -> [ReferenceUpdate] {
        let operation = "fetch \(url)"
        let request = try FetchWorker.request(mirror: mirror, url: url, credentials: credentials, trust: trust)
        MirrorLeftovers.remove(in: mirror)
        let id = UUID()
        let clock = clock
        let deadlines = SharedDeadlines(FetchDeadlines(timeouts: timeouts, startedAt: clock.now))
        var options = PlatformOptions()
        // Its own process group, and no teardown grace: a cancelled fetch is killed outright.
        options.processGroupID = 0
        options.teardownSequence = []
        let outcome: Outcome
        let ending: String
        do {
            let result = try await Subprocess.run(
                .path(FilePath(executable)), arguments: ["fetch-worker"], platformOptions: options,
                input: .inputWriter, output: .sequence, error: .string(limit: 8192)
            ) { execution in
                let pid = execution.processIdentifier.value
                guard running.withLock({ state in
                    if !state.stopped { state.children[id] = pid }
                    return !state.stopped
                }) else {
                    try? execution.send(signal: .kill)
                    return Outcome.stopped
                }
                defer { _ = running.withLock { $0.children.removeValue(forKey: id) } }
                _ = try await execution.standardInputWriter.write(request)
                try await execution.standardInputWriter.finish()
                return try await withThrowingTaskGroup(of: Outcome.self) { group in
                    group.addTask {
                        var final: FetchWorkerEvent?
                        for try await line in execution.standardOutput.strings() {
                            guard let event = FetchWorker.decodeEvent(line) else { continue }
                            let now = clock.now
                            deadlines.withLock { $0.record(event, at: now) }
                            if event.isFinal { final = event }
                        }
                        return .ended(final)
                    }
                    group.addTask {
                        while true {
                            // Deadlines move earlier too (the worker's start starts the connect
                            // deadline), so look again at least every quarter second.
                            try await clock.sleep(until: min(deadlines.withLock { $0.next }, clock.now + .milliseconds(250)))
                            let now = clock.now
                            if let expired = deadlines.withLock({ $0.expired(at: now) }) {
                                try? execution.send(signal: .kill)
                                return .timedOut(expired)
                            }
                        }
                    }
                    let first = try await group.next() ?? .ended(nil)
                    group.cancelAll()
                    return first
                }
            }
            outcome = result.closureResult
            let stderr = result.standardError.trimmingCharacters(in: .whitespacesAndNewlines).suffix(400)
            ending = "\(result.terminationStatus)" + (stderr.isEmpty ? "" : ": \(stderr)")
        } catch {
            throw GitError(kind: .libgit2, operation: operation, message: "cannot run the fetch worker \(executable): \(error)")
        }
        let wasStopped = running.withLock { $0.stopped }
        // A worker killed mid-fetch may have left lock files that would fail every later fetch.
        switch outcome {
        case .ended(.finished(let updates)?):
            return updates
        case .ended(.failed(let error)?):
            throw error
        case .timedOut(let expired):
            MirrorLeftovers.remove(in: mirror)
            let explanation = deadlines.withLock { $0.explanation(of: expired) }
            throw GitError(kind: .remoteUnreachable, operation: operation, message: "\(explanation); the fetch was stopped")
        case .stopped, .ended:
            MirrorLeftovers.remove(in: mirror)
            if wasStopped {
                throw GitError(kind: .remoteUnreachable, operation: operation, message: "the fetch was stopped: git2kv is shutting down")
            }
            throw GitError(kind: .libgit2, operation: operation, message: "the fetch worker ended without a result (\(ending))")
        }
    }

    /// The deadlines of one fetch, shared by its output reader and its watchdog.
    private final class SharedDeadlines: Sendable {
        private let mutex: Mutex<FetchDeadlines>
        init(_ deadlines: FetchDeadlines) { mutex = Mutex(deadlines) }
        func withLock<T>(_ body: (inout FetchDeadlines) -> T) -> T { mutex.withLock { body(&$0) } }
    }

    private enum Outcome: Sendable {
        case ended(FetchWorkerEvent?)
        case timedOut(FetchDeadlines.Expired)
        case stopped
    }
}
