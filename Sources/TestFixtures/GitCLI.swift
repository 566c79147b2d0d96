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
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["git"] + arguments
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        var environment = ProcessInfo.processInfo.environment
        environment["GIT_CONFIG_NOSYSTEM"] = "1"
        environment["GIT_CONFIG_GLOBAL"] = "/dev/null"
        environment["GIT_TERMINAL_PROMPT"] = "0"
        process.environment = environment

        let output = Pipe()
        let errors = Pipe()
        let inputPipe = Pipe()
        process.standardOutput = output
        process.standardError = errors
        process.standardInput = input == nil ? FileHandle.nullDevice : inputPipe
        try process.run()

        let errorData = ReadInBackground(errors.fileHandleForReading)
        if let input {
            let writer = inputPipe.fileHandleForWriting
            DispatchQueue.global().async {
                writer.write(Data(input))
                try? writer.close()
            }
        }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw Failure(
                arguments: arguments, status: process.terminationStatus,
                standardError: String(decoding: errorData.wait(), as: UTF8.self))
        }
        return Array(data)
    }

    /// Runs git and returns its standard output as text without the trailing newline.
    public static func text(_ arguments: [String], in directory: String? = nil) throws -> String {
        var text = String(decoding: try run(arguments, in: directory), as: UTF8.self)
        while text.hasSuffix("\n") { text.removeLast() }
        return text
    }
}

/// Drains a pipe on another thread so that a chatty child cannot block on a full pipe.
private final class ReadInBackground: @unchecked Sendable {
    private var data = Data()
    private let done = DispatchSemaphore(value: 0)

    init(_ handle: FileHandle) {
        DispatchQueue.global().async {
            self.data = handle.readDataToEndOfFile()
            self.done.signal()
        }
    }

    func wait() -> Data {
        done.wait()
        return data
    }
}
