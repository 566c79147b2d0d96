import BenchmarkSupport
import Foundation
import TestFixtures

/// What a node pays for git2kv: `git2kv-node` beside the full `git2kv`, both as `scripts/package`
/// builds them (release, Swift runtime linked in). For each binary: its size stripped, the
/// shared libraries it needs, the resident memory of `render` keeping 10 outputs, and the wall
/// time of `render --once` for one output (process start to exit), against a kv-server on loopback.
enum NodeBinaryBenchmark {
    static let outputs = 10

    struct Measures {
        var strippedBytes = 0
        var libraries: [String] = []
        var renderRSS = 0
        var renderAnonymous = 0
        var once = Timings(name: "render --once")
    }

    static func run(rounds: Int) async throws -> String {
        let full = Git2KVBinary.path
        let node = Git2KVBinary.nodePath
        let directory = try TemporaryDirectory(prefix: "git2kv-bench-node")
        defer { directory.remove() }
        let server = try BackgroundProcess(full, ["kv-server", "--listen", "127.0.0.1:0"])
        defer { server.kill() }
        guard let port = server.announcedPort else { throw BenchmarkFailure("kv-server did not announce its port: \(server.firstLine)") }
        let kvSetting = "{ address: \"http://127.0.0.1:\(port)\" }"
        try publishBundles(with: node, kvSetting: kvSetting, in: directory)

        var measures: [(name: String, measures: Measures)] = []
        for (name, binary) in [("git2kv-node", node), ("git2kv", full)] {
            var result = Measures()
            result.strippedBytes = try strippedSize(of: binary, in: directory)
            result.libraries = try sharedLibraries(of: binary)
            (result.renderRSS, result.renderAnonymous) = try await renderMemory(binary, kvSetting: kvSetting, in: directory.appending("rss-\(name)"))
            let onceConfig = try renderConfig(kvSetting: kvSetting, outputs: 1, in: directory.appending("once-\(name)"))
            for _ in 0..<rounds {
                let started = ContinuousClock.now
                let once = try ProcessRunner.run(binary, ["render", "--config", onceConfig, "--once"])
                result.once.record(started.duration(to: .now))
                guard once.status == 0 else { throw BenchmarkFailure("\(name) render --once failed: \(once.errors)") }
            }
            measures.append((name, result))
        }
        return report(measures, rounds: rounds)
    }

    /// Ten bundles of three files each (about 4 KiB of config per bundle), published with the node binary.
    static func publishBundles(with node: String, kvSetting: String, in directory: TemporaryDirectory) throws {
        let config = directory.appending("publish.yaml")
        try "kv: \(kvSetting)\n".write(toFile: config, atomically: true, encoding: .utf8)
        for bundle in 0..<outputs {
            let files = try (0..<3).map { file in
                let path = directory.appending("source-\(bundle)-\(file).conf")
                let lines = (0..<60).map { "setting_\(bundle)_\(file)_\($0) = value \($0 * 7919 % 1000)" }
                try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
                return path
            }
            let published = try ProcessRunner.run(node, ["publish", "--config", config, "--key", "bench/app-\(bundle)"] + files)
            guard published.status == 0 else { throw BenchmarkFailure("publish bench/app-\(bundle): \(published.errors)") }
        }
    }

    static func renderConfig(kvSetting: String, outputs: Int, in path: String) throws -> String {
        try FileManager.default.createDirectory(atPath: path + "/out", withIntermediateDirectories: true)
        var text = "kv: \(kvSetting)\nstate_dir: \(path)/state\noutputs:\n"
        for bundle in 0..<outputs {
            text += "  - bundle: bench/app-\(bundle)\n    file: source-\(bundle)-0.conf\n    destination: \(path)/out/app-\(bundle).conf\n"
        }
        let file = path + "/render.yaml"
        try text.write(toFile: file, atomically: true, encoding: .utf8)
        return file
    }

    /// `render` keeping 10 outputs: resident memory once every file is delivered and the
    /// renderer sits in its blocking queries.
    static func renderMemory(_ binary: String, kvSetting: String, in path: String) async throws -> (Int, Int) {
        let config = try renderConfig(kvSetting: kvSetting, outputs: outputs, in: path)
        let renderer = try BackgroundProcess(binary, ["render", "--config", config], standardErrorFile: path + "/render.log")
        defer { renderer.kill(SIGTERM) }
        try await eventually("\(outputs) outputs delivered by \(binary)", timeout: .seconds(60)) {
            (0..<outputs).allSatisfy { FileManager.default.fileExists(atPath: "\(path)/out/app-\($0).conf") }
        }
        // Blocking queries are open once the renderer has nothing left to write; give the
        // deliveries' last writes (state file, metrics) a moment to settle before reading.
        try await Task.sleep(for: .seconds(2))
        guard renderer.isRunning, let resident = ResidentMemory.kilobytes(of: renderer.processIdentifier) else {
            throw BenchmarkFailure("\(binary) render exited")
        }
        return (resident, ResidentMemory.anonymousKilobytes(of: renderer.processIdentifier) ?? 0)
    }

    static func strippedSize(of binary: String, in directory: TemporaryDirectory) throws -> Int {
        let copy = directory.appending("stripped-\(URL(fileURLWithPath: binary).lastPathComponent)")
        let stripped = try ProcessRunner.run("/usr/bin/strip", ["-o", copy, binary])
        guard stripped.status == 0 else { throw BenchmarkFailure("strip \(binary): \(stripped.errors)") }
        let size = try FileManager.default.attributesOfItem(atPath: copy)[.size] as? Int ?? 0
        try? FileManager.default.removeItem(atPath: copy)
        return size
    }

    static func sharedLibraries(of binary: String) throws -> [String] {
        let listed = try ProcessRunner.run("/usr/bin/ldd", [binary])
        return listed.output.split(separator: "\n").compactMap { line in
            let name = line.split(separator: " ").first.map(String.init)?.trimmingCharacters(in: .whitespaces) ?? ""
            return name.isEmpty || name.hasPrefix("linux-vdso") || name.hasPrefix("/lib64/ld-") ? nil : name
        }
    }

    static func report(_ measures: [(name: String, measures: Measures)], rounds: Int) -> String {
        func row(_ title: String, _ value: (Measures) -> String) -> String {
            let cells: [String] = measures.map { value($0.measures) }
            return "| \(title) | \(cells.joined(separator: " | ")) |"
        }
        let names: [String] = measures.map { "`\($0.name)`" }
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let memory = ProcessInfo.processInfo.physicalMemory / 1_073_741_824
        var lines: [String] = [
            "Machine: \(cores) cores, \(memory) GiB; binaries as `scripts/package` builds them (release, `--static-swift-stdlib`), \(rounds) runs of `render --once`.",
            "",
            "| measure | \(names.joined(separator: " | ")) |",
            "|---|" + String(repeating: "---|", count: measures.count),
        ]
        lines.append(row("size, stripped") { megabytes($0.strippedBytes) })
        lines.append(row("shared libraries") { $0.libraries.map { $0.replacingOccurrences(of: ".so", with: "") }.joined(separator: ", ") })
        lines.append(row("`render` RSS, \(outputs) outputs delivered") { mebibytes($0.renderRSS) })
        lines.append(row("of which anonymous (heap, stacks)") { mebibytes($0.renderAnonymous) })
        lines.append(row("`render --once`, one output, start to exit (median)") { milliseconds($0.once.median) })
        lines.append("")
        let node = measures[0].measures
        lines.append(targetLine("node binary under 40 MB stripped", met: node.strippedBytes < 40_000_000, measured: megabytes(node.strippedBytes)))
        lines.append(targetLine("render RSS with \(outputs) outputs under 25 MiB", met: node.renderRSS < 25 * 1024, measured: mebibytes(node.renderRSS)))
        lines.append(targetLine("render --once start-up under 100 ms", met: node.once.median < .milliseconds(100), measured: milliseconds(node.once.median)))
        lines.append(targetLine("no Swift runtime library needed", met: !node.libraries.contains { $0.contains("swift") || $0.contains("Foundation") }, measured: node.libraries.joined(separator: ", ")))
        return lines.joined(separator: "\n")
    }

    static func mebibytes(_ kilobytes: Int) -> String { String(format: "%.1f MiB", Double(kilobytes) / 1024) }

    static func megabytes(_ bytes: Int) -> String { String(format: "%.1f MB", Double(bytes) / 1_000_000) }

    static func milliseconds(_ duration: Duration) -> String { String(format: "%.0f ms", duration.milliseconds) }
}
