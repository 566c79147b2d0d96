import Foundation
import TestFixtures
import Testing

/// `git2kv demo` as the README runs it, with `--once` so it stops by itself.
@Suite("git2kv demo (end to end)")
struct DemoCommandTests {
    static let examples = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Examples/demo").path

    @Test("the demo starts everything, shows its own commit in the rendered file, and leaves a repository git can use")
    func demoOnce() throws {
        let directory = try TemporaryDirectory(prefix: "git2kv-demo-test")
        defer { directory.remove() }
        let root = directory.appending("demo")
        let result = try Git2KVBinary.run(["demo", "--once", "--directory", root, "--examples", Self.examples])
        #expect(result.status == 0, "\(result.output)\(result.errors)")
        #expect(result.output.contains("kv-server   http://127.0.0.1:"))
        #expect(result.output.contains("has it"))
        let rendered = try String(contentsOfFile: root + "/rendered/web.conf", encoding: .utf8)
        #expect(rendered.contains("listen 8080;"))
        #expect(rendered.contains("server 10.0.0.11:9000;"))
        #expect(rendered.contains("hello from commit"), "the demo's own change reached the file")
        #expect(try GitCLI.text(["log", "--format=%s"], in: root + "/config").split(separator: "\n").count == 2)

        let again = try Git2KVBinary.run(["demo", "--once", "--directory", root, "--examples", Self.examples])
        #expect(again.status != 0)
        #expect(again.errors.contains("already holds a demo"))
        let missing = try Git2KVBinary.run(["demo", "--once", "--directory", directory.appending("other"), "--examples", directory.appending("nowhere")])
        #expect(missing.status != 0)
        #expect(missing.errors.contains("no example at"))
    }
}
