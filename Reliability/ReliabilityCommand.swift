import ArgumentParser
import Foundation

/// `git2kv-reliability`: kill -9 chaos while commits flow, then the bad-input corpus, then one
/// short report. Exits 1 when anything was lost, torn, or answered unexpectedly.
@main
struct ReliabilityCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "git2kv-reliability",
        abstract: "Kill kv-server, the daemon and a renderer at random while commits flow; feed every kind of bad input; report what was lost.")

    @Option(help: "kill -9 cycles per process.")
    var cycles = 100

    @Option(help: "Seed of the commits and the kill schedule (a run is repeatable from it).")
    var seed = UInt64(Date().timeIntervalSince1970)

    @Flag(help: "Run only the bad-input corpus.")
    var corpusOnly = false

    @Option(help: "SIGTERM restarts of the three serve replicas in the rolling-restart scenario (0 skips it).")
    var restarts = 30

    @Flag(help: "Run only the rolling-restart scenario.")
    var rollingOnly = false

    @Option(help: "Commits to the healthy repo in the git-fault scenario (0 skips it).")
    var gitFaultCommits = 40

    @Flag(help: "Run only the git-fault scenario.")
    var gitFaultsOnly = false

    @Option(help: "Stalled connections in the slow-client scenario (0 skips it).")
    var slowClients = 2000

    @Option(help: "kill -9 cycles of kv-server on a slow disk, checking that no read showed a write a crash then lost (0 skips it).")
    var slowDiskCycles = 20

    @Flag(help: "Run only the slow-disk scenario.")
    var slowDiskOnly = false

    @Flag(help: "Keep the work directory (logs, repository, KV data) for a look afterwards.")
    var keep = false

    func run() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("git2kv-reliability-\(UUID().uuidString.prefix(8))").path
        defer { if !keep { try? FileManager.default.removeItem(atPath: root) } }
        var lines: [String] = []
        var passed = true
        var dataLost = 0
        let only = corpusOnly || rollingOnly || gitFaultsOnly || slowDiskOnly
        if slowDiskOnly || (!only && slowDiskCycles > 0) {
            let slowDisk = try await SlowDiskRun(cycles: max(slowDiskCycles, 1), seed: seed, root: root + "/slow-disk").run()
            lines += slowDisk.lines
            passed = passed && slowDisk.passed
        }
        if slowDiskOnly {
            print("git2kv reliability: " + (passed ? "PASS" : "FAIL"))
            lines.forEach { print($0) }
            if !passed { throw ExitCode.failure }
            return
        }
        if !corpusOnly, !rollingOnly, !gitFaultsOnly, slowClients > 0 {
            let slow = try await SlowClientRun(connections: slowClients, root: root + "/slow-clients").run()
            lines += slow.lines
            passed = passed && slow.passed
        }
        if gitFaultsOnly || (!corpusOnly && !rollingOnly && gitFaultCommits > 0) {
            let faults = try await GitFaultRun(commits: max(gitFaultCommits, 4), root: root + "/git-faults").run()
            lines += faults.lines
            passed = passed && faults.passed
        }
        if !corpusOnly, !gitFaultsOnly, restarts > 0 {
            let rolling = try await RollingRestartRun(restarts: restarts, root: root + "/rolling").run()
            lines += rolling.lines
            passed = passed && rolling.passed
        }
        if !corpusOnly, !rollingOnly, !gitFaultsOnly {
            let chaos = try await ChaosRun(cyclesPerProcess: cycles, seed: seed, root: root + "/chaos").run()
            lines += chaos.lines
            passed = passed && chaos.passed
            dataLost += chaos.dataLost
        }
        if !rollingOnly, !gitFaultsOnly {
            let corpus = try await BadInputCorpus(root: root + "/corpus").run()
            lines += corpus.lines
            passed = passed && corpus.passed
            dataLost += corpus.dataLost
        }
        lines.append("data lost: \(dataLost)")
        print("git2kv reliability: " + (passed ? "PASS" : "FAIL"))
        lines.forEach { print($0) }
        if keep { print("work directory: \(root)") }
        if !passed { throw ExitCode.failure }
    }
}
