import Foundation
import Subprocess

#if canImport(System)
import System
#else
import SystemPackage
#endif

/// Runs a check or reload command as argv (no shell, no PATH lookup) with a time limit. The
/// command gets its own process group, so a timeout stops whatever it started too.
enum CommandRunner {
    /// Keeps the end of stderr for the report; a command that writes more is cut, not failed.
    private static let stderrLimit = 1024 * 1024

    /// Succeeds when the command exits 0 within `timeout`; otherwise says why, in `what`'s words.
    static func run(_ argv: [String], timeout: Duration, what: String, kind: RenderError.Kind) async throws(RenderError) {
        guard let program = argv.first else { throw RenderError(kind, "\(what) names no program") }
        let options = {
            var options = PlatformOptions()
            options.processGroupID = 0
            options.teardownSequence = [.gracefulShutDown(toProcessGroup: true, allowedDurationToNextStep: .seconds(2))]
            return options
        }()
        let outcome: Outcome
        do {
            outcome = try await withThrowingTaskGroup(of: Outcome.self) { group in
                group.addTask {
                    let result = try await Subprocess.run(
                        .path(FilePath(program)), arguments: Arguments(Array(argv.dropFirst())), platformOptions: options,
                        output: .discarded, error: .string(limit: stderrLimit))
                    return .finished(result.terminationStatus, result.standardError)
                }
                group.addTask {
                    try await Task.sleep(for: timeout)
                    return .timedOut
                }
                let first = try await group.next() ?? .timedOut
                group.cancelAll()
                return first
            }
        } catch {
            throw RenderError(kind, "\(what) \(argv.joined(separator: " ")) could not run: \(error)")
        }
        switch outcome {
        case .timedOut:
            throw RenderError(kind, "\(what) \(argv.joined(separator: " ")) did not finish within \(timeout) and was stopped")
        case .finished(let status, let stderr):
            guard case .exited(0) = status else {
                let tail = stderr.trimmingCharacters(in: .whitespacesAndNewlines).suffix(400)
                throw RenderError(kind, "\(what) \(argv.joined(separator: " ")) \(describe(status))\(tail.isEmpty ? "" : ": \(tail)")")
            }
        }
    }

    private enum Outcome: Sendable {
        case finished(TerminationStatus, String)
        case timedOut
    }

    private static func describe(_ status: TerminationStatus) -> String {
        switch status {
        case .exited(let code): "exited with status \(code)"
        case .signaled(let signal): "was killed by signal \(signal)"
        }
    }
}
