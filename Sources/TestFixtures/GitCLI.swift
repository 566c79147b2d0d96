import Foundation

/// Runs the git command line for building fixtures and for comparisons in tests and benchmarks.
/// The product never uses it.
public enum GitCLI {
    public struct Failure: Error, CustomStringConvertible {
        public let arguments: [String]
        public let status: Int32
        public let standardError: String
        public var description: String { "git \(arguments.joined(separator: " ")) exited \(status): \(standardError)" }
    }

    @discardableResult
    public static func run(_ arguments: [String], in directory: String? = nil, input: [UInt8]? = nil) throws -> [UInt8] {
        var environment = ProcessInfo.processInfo.environment
        environment["GIT_CONFIG_NOSYSTEM"] = "1"
        environment["GIT_CONFIG_GLOBAL"] = "/dev/null"
        environment["GIT_TERMINAL_PROMPT"] = "0"
        let result = try ProcessRunner.run("/usr/bin/env", ["git"] + arguments, in: directory, environment: environment, input: input)
        guard result.status == 0 else {
            throw Failure(arguments: arguments, status: result.status, standardError: result.errors)
        }
        return result.standardOutput
    }

    /// Runs git and returns its standard output as text without the trailing newline.
    public static func text(_ arguments: [String], in directory: String? = nil) throws -> String {
        var text = String(decoding: try run(arguments, in: directory), as: UTF8.self)
        while text.hasSuffix("\n") { text.removeLast() }
        return text
    }
}
