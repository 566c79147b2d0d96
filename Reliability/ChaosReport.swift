import Foundation

/// What the chaos half found, and the lines of the report it contributes.
struct ChaosReport {
    let seed: UInt64
    let duration: Duration
    let commits: Int
    let kills: Int
    let survived: [String: Int]
    let findings: Findings
    let finalMismatches: [String]
    let commandRuns: [String]
    let stoppedCleanly: [String]
    let processNames: [String]
    let workspace: String

    var cyclesSurvived: Int { survived.values.reduce(0, +) }
    var cyclesAttempted: Int { kills * processNames.count }

    /// Commands that ran twice in a row for the same content. A renderer killed after its
    /// command ran but before it recorded so may repeat it once; more is a defect.
    var repeatedCommands: Int { zip(commandRuns, commandRuns.dropFirst()).filter { $0 == $1 }.count }

    var dataLost: Int { finalMismatches.count + findings.violations.count { $0.contains("was lost") } }

    var passed: Bool {
        cyclesSurvived == cyclesAttempted && findings.violations.isEmpty && finalMismatches.isEmpty
            && repeatedCommands <= kills && stoppedCleanly.count == processNames.count
    }

    var lines: [String] {
        let perProcess = processNames.map { "\($0) \(survived[$0] ?? 0)/\(kills)" }.joined(separator: ", ")
        var lines = [
            "chaos: \(cyclesSurvived) of \(cyclesAttempted) kill -9 cycles survived (\(perProcess)) in \(Int(duration.components.seconds)) s, seed \(seed)",
            "commits: \(commits) made (\(findings["commits during chaos"]) during the kills); webhooks: "
                + "\(findings["webhooks accepted"]) accepted, \(findings["webhooks unanswered (daemon down)"]) unanswered while the daemon was down",
            "KV watcher: \(findings["bundle values checked"]) bundle values verified (\(findings["chunked bundle values checked"]) chunked), "
                + "\(findings["state values checked"]) state values, \(findings["KV snapshots checked"]) snapshots; "
                + "\(findings["watcher read errors"]) reads failed while kv-server was down; index went back \(findings["kv index went back"]) times",
            "file watcher: \(findings["rendered contents checked"]) distinct rendered contents checked over \(findings["rendered file reads checked"]) reads",
            "commands: \(commandRuns.count) runs, \(repeatedCommands) repeated for the same content (at most one per renderer kill is allowed: \(kills))",
            "end state: " + (finalMismatches.isEmpty ? "KV equals git at the head; every rendered file equals its expected render" : "\(finalMismatches.count) differences"),
            "clean stop (SIGTERM): \(stoppedCleanly.count) of \(processNames.count) processes",
        ]
        lines += findings.violations.prefix(20).map { "  violation: \($0)" }
        lines += finalMismatches.prefix(20).map { "  difference: \($0)" }
        return lines
    }
}
