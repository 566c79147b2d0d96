import BenchmarkSupport
import Foundation
import GitKit
import TestFixtures

/// Issue 2's benchmark: in a 10,000-file repository, a commit changing one file; the time to diff
/// the two commits and read the changed blobs, through GitKit and through the git CLI
/// (`git diff-tree -r` then `git cat-file --batch`), measured alternately in one run.
enum GitLayerBenchmark {
    static func run(iterations: Int) async throws -> String {
        let directory = try TemporaryDirectory(prefix: "git2kv-bench")
        defer { directory.remove() }
        let fixture = try FixtureRepository(at: directory.appending("origin.git"))
        let before = try fixture.commit("10,000 files", changes: StandardFixtures.manyFiles(directories: 100, filesPerDirectory: 100))
        let changedPath = StandardFixtures.path(directory: 42, file: 17)
        let after = try fixture.commit("one file", changes: [.text(changedPath, StandardFixtures.content(directory: 42, file: 17, revision: 1))])
        let beforeID = ObjectID(hex: before)!
        let afterID = ObjectID(hex: after)!

        let repository = try GitRepository(openingAt: fixture.path)
        var warm = Timings(name: "git2kv (open repository)")
        var cold = Timings(name: "git2kv (open + diff + read)")
        var cli = Timings(name: "git CLI (diff-tree + cat-file --batch)")
        let clock = ContinuousClock()

        // One untimed round of each, so page cache and lazy set-up do not count.
        let expected = try await diffAndRead(repository, beforeID, afterID)
        let cliBytes = try cliDiffAndRead(fixture.path, before, after)
        guard expected == cliBytes, expected.count == 1 else {
            throw BenchmarkFailure("GitKit and the git CLI read different changes: \(expected.count) vs \(cliBytes.count)")
        }

        for _ in 0..<iterations {
            warm.record(try await clock.measure { _ = try await diffAndRead(repository, beforeID, afterID) })
            cold.record(try await clock.measure {
                let fresh = try GitRepository(openingAt: fixture.path)
                _ = try await diffAndRead(fresh, beforeID, afterID)
            })
            cli.record(try clock.measure { _ = try cliDiffAndRead(fixture.path, before, after) })
        }

        return render([warm, cold, cli], baseline: cli, iterations: iterations)
    }

    /// The changed files' contents after the commit, as GitKit reads them.
    private static func diffAndRead(_ repository: GitRepository, _ before: ObjectID, _ after: ObjectID) async throws -> [[UInt8]] {
        var contents: [[UInt8]] = []
        for delta in try await repository.diff(from: before, to: after) {
            if let id = delta.newID { contents.append(try await repository.readBlob(id)) }
        }
        return contents
    }

    private static func cliDiffAndRead(_ repository: String, _ before: String, _ after: String) throws -> [[UInt8]] {
        let diff = try GitCLI.text(["diff-tree", "-r", "--no-renames", before, after], in: repository)
        let ids = diff.split(separator: "\n").compactMap { line -> String? in
            let fields = line.split(separator: " ")
            return fields.count >= 4 && fields[3] != String(repeating: "0", count: 40) ? String(fields[3]) : nil
        }
        let output = try GitCLI.run(["cat-file", "--batch"], in: repository, input: Array(ids.joined(separator: "\n").appending("\n").utf8))
        return splitBatchOutput(output)
    }

    /// Parses `git cat-file --batch` output: "<id> <type> <size>\n<content>\n" per object.
    private static func splitBatchOutput(_ output: [UInt8]) -> [[UInt8]] {
        var contents: [[UInt8]] = []
        var index = 0
        while index < output.count, let newline = output[index...].firstIndex(of: UInt8(ascii: "\n")) {
            let header = String(decoding: output[index..<newline], as: UTF8.self).split(separator: " ")
            guard header.count == 3, let size = Int(header[2]) else { break }
            contents.append(Array(output[(newline + 1)..<(newline + 1 + size)]))
            index = newline + 1 + size + 1
        }
        return contents
    }

    private static func render(_ measurements: [Timings], baseline: Timings, iterations: Int) -> String {
        var lines = [
            "### Git layer: diff a one-file commit in a 10,000-file repository and read the changed blob",
            "",
            "\(iterations) alternating iterations; median, min and max per operation; ratio = median / git CLI median.",
            "",
            "| operation | median | min | max | ratio to git CLI |",
            "|---|---|---|---|---|",
        ]
        for measurement in measurements {
            let ratio = measurement.median.milliseconds / baseline.median.milliseconds
            lines.append(
                "| \(measurement.name) | \(formatMilliseconds(measurement.median)) | \(formatMilliseconds(measurement.minimum)) | \(formatMilliseconds(measurement.maximum)) | \(String(format: "%.3f", ratio)) |")
        }
        let slowest = measurements.filter { $0.name != baseline.name }.map { $0.median.milliseconds / baseline.median.milliseconds }.max() ?? 1
        lines += ["", targetLine("git2kv at most half the git CLI's time", met: slowest <= 0.5, measured: String(format: "slowest git2kv row at %.3f× the git CLI", slowest))]
        return lines.joined(separator: "\n")
    }
}
