import Foundation

/// Runs the built `git2kv` executable, for end-to-end tests. It is looked up next to the test
/// bundle (SwiftPM puts products in one directory), or at `GIT2KV_BINARY` when that is set.
public enum Git2KVBinary {
    public static var path: String {
        if let override = ProcessInfo.processInfo.environment["GIT2KV_BINARY"] { return override }
        let testBinary = URL(fileURLWithPath: CommandLine.arguments[0])
        var directory = testBinary.deletingLastPathComponent()
        while directory.path != "/" {
            let candidate = directory.appendingPathComponent("git2kv").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            directory = directory.deletingLastPathComponent()
        }
        return testBinary.deletingLastPathComponent().appendingPathComponent("git2kv").path
    }

    /// `git2kv-node`, the node-side executable, next to `git2kv`.
    public static var nodePath: String {
        URL(fileURLWithPath: path).deletingLastPathComponent().appendingPathComponent("git2kv-node").path
    }

    public static func run(_ arguments: [String], input: [UInt8]? = nil) throws -> ProcessRunner.Result {
        try ProcessRunner.run(path, arguments, input: input)
    }
}
