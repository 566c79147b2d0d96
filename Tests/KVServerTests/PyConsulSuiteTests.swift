import Foundation
import Testing
import TestFixtures

/// py-consul 1.8.0's own API tests (kv, txn, session, catalog, health, acl, status, agent),
/// unchanged, against the kv-server binary: its conftest is replaced by one that starts
/// kv-server instead of Consul in docker. `scripts/install-deps` fetches the sdist. Tests that
/// need what a single kv-server does not have are skipped by exact name, each with its reason, in
/// Tests/Support/py-consul/skipped.tsv; every other one must pass.
@Suite("py-consul 1.8.0's own tests against kv-server")
struct PyConsulSuiteTests {
    static let support = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Support/py-consul")
    static let sdist = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent(".build/third-party/py_consul-1.8.0.tar.gz").path
    static let files = ["kv", "txn", "session", "catalog", "health", "acl", "status", "agent"].map { "tests/api/test_\($0).py" }

    @Test("every test that one server can pass passes")
    func ownTests() throws {
        try #require(FileManager.default.fileExists(atPath: Self.sdist), "\(Self.sdist) is missing: run scripts/install-deps")
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let unpacked = try ProcessRunner.run("/bin/tar", ["xzf", Self.sdist, "-C", directory.path])
        try #require(unpacked.status == 0, "\(unpacked.errors)")
        let root = directory.appending("py_consul-1.8.0")
        try FileManager.default.removeItem(atPath: root + "/conftest.py")
        try FileManager.default.copyItem(atPath: Self.support.appendingPathComponent("conftest.py").path, toPath: root + "/conftest.py")
        let listing = Self.support.appendingPathComponent("skipped.tsv").path
        let skipped = try String(contentsOfFile: listing, encoding: .utf8).split(separator: "\n").filter { !$0.hasPrefix("#") && !$0.isEmpty }
        let arguments = ["-m", "pytest", "-p", "no:cacheprovider", "-o", "addopts=", "-q", "-rs", "--rootdir", root] + Self.files
        var environment = ProcessInfo.processInfo.environment
        environment["GIT2KV_PY_CONSUL_SKIPPED"] = listing
        environment["GIT2KV_BINARY"] = Git2KVBinary.path
        environment["PYTHONPATH"] = root
        let result = try ProcessRunner.run("/usr/bin/python3", arguments, in: root, environment: environment)
        let summary = result.output.split(separator: "\n").last.map(String.init) ?? ""
        #expect(result.status == 0, "\(result.output.suffix(6000))\(result.errors.suffix(2000))")
        #expect(summary.contains("passed") && !summary.contains("failed") && !summary.contains("error"), "\(summary)")
        let words = summary.split(separator: " ")
        func count(_ word: String) -> Int {
            words.indices.first { words[$0].hasPrefix(word) }.flatMap { $0 > 0 ? Int(words[$0 - 1]) : nil } ?? 0
        }
        #expect(count("passed") >= 58, "\(summary)")
        #expect(count("skipped") == skipped.count, "exactly the tests skipped.tsv names are skipped: \(summary)")
    }
}
