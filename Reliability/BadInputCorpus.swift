import Foundation
import TestFixtures

/// One malformed input fed to a real `git2kv` process, and what came of it: nil when the
/// expected error came and nothing good was lost, else what went wrong.
struct CorpusOutcome: Sendable {
    let category: String
    let input: String
    let problem: String?
}

/// The bad-input half of the reliability suite: every kind of malformed repository file,
/// configuration, webhook and KV value, each with the error it must produce.
struct BadInputCorpus {
    let root: String

    func run() async throws -> CorpusReport {
        var outcomes: [CorpusOutcome] = []
        outcomes += try await RepoFileCorpus(root: root + "/repo-files").run()
        outcomes += try ConfigCorpus(root: root + "/configs").run()
        outcomes += try await WebhookCorpus(root: root + "/webhooks").run()
        outcomes += try await KVValueCorpus(root: root + "/kv-values").run()
        return CorpusReport(outcomes: outcomes)
    }
}

struct CorpusReport {
    let outcomes: [CorpusOutcome]

    var failures: [CorpusOutcome] { outcomes.filter { $0.problem != nil } }
    var passed: Bool { failures.isEmpty }
    /// Inputs after which a good value or file was not kept.
    var dataLost: Int { failures.count { $0.problem?.contains("lost") == true } }

    var lines: [String] {
        let categories = Dictionary(grouping: outcomes, by: \.category).sorted { $0.key < $1.key }
        let summary = categories.map { category, outcomes in "\(category) \(outcomes.count { $0.problem == nil })/\(outcomes.count)" }
        return ["bad inputs: \(outcomes.count - failures.count) of \(outcomes.count) gave the expected error and kept the last good state (\(summary.joined(separator: ", ")))"]
            + failures.map { "  unexpected: [\($0.category)] \($0.input): \($0.problem ?? "")" }
    }
}

/// Checks a finished command: it must fail, and its output must name each expected piece
/// (file, line, reason) and none of the forbidden ones (secrets).
func expectFailure(_ result: ProcessRunner.Result, naming expected: [String], never forbidden: [String] = []) -> String? {
    let output = result.output + result.errors
    if result.status == 0 { return "exited 0; output: \(output.prefix(300))" }
    let missing = expected.filter { !output.contains($0) }
    if !missing.isEmpty { return "the error does not name \(missing.joined(separator: ", ")): \(output.prefix(400))" }
    let leaked = forbidden.filter { output.contains($0) }
    if !leaked.isEmpty { return "the output shows a secret" }
    return nil
}
