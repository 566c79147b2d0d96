import Foundation

/// A long-running child process (a server) that tests start, read the first line of, and kill.
public final class BackgroundProcess: @unchecked Sendable {
    private let process = Process()
    private let output = Pipe()
    public let firstLine: String

    /// Starts `executable` and waits for its first line of output (servers print their address).
    /// With `standardErrorFile`, what it writes to standard error goes to that file.
    public init(_ executable: String, _ arguments: [String], environment: [String: String]? = nil, standardErrorFile: String? = nil) throws {
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment { process.environment = environment }
        process.standardOutput = output
        if let standardErrorFile {
            _ = FileManager.default.createFile(atPath: standardErrorFile, contents: nil)
            process.standardError = FileHandle(forWritingAtPath: standardErrorFile)
        } else {
            process.standardError = FileHandle.nullDevice
        }
        process.standardInput = FileHandle.nullDevice
        try process.run()
        firstLine = Self.readLine(output.fileHandleForReading) ?? ""
    }

    /// The next line of standard output after the first (nil at the end of output).
    public func nextLine() -> String? {
        Self.readLine(output.fileHandleForReading)
    }

    private static func readLine(_ handle: FileHandle) -> String? {
        var line = Data()
        while let byte = try? handle.read(upToCount: 1), !byte.isEmpty {
            if byte == Data("\n".utf8) { return String(decoding: line, as: UTF8.self) }
            line += byte
        }
        return line.isEmpty ? nil : String(decoding: line, as: UTF8.self)
    }

    public var processIdentifier: Int32 { process.processIdentifier }

    private let reaped = ReapedFlag()

    /// False once `kill` has waited for the process (Foundation learns of the exit later, so
    /// its own flag may still say running right after).
    public var isRunning: Bool { !reaped.value && process.isRunning }

    /// The port at the end of the first line ("... listening on 127.0.0.1:PORT ...").
    public var announcedPort: Int? {
        let pattern = try! NSRegularExpression(pattern: #"127\.0\.0\.1:(\d+)"#)
        let range = NSRange(firstLine.startIndex..., in: firstLine)
        guard let match = pattern.firstMatch(in: firstLine, range: range), let portRange = Range(match.range(at: 1), in: firstLine) else {
            return nil
        }
        return Int(firstLine[portRange])
    }

    /// Sends a signal (SIGKILL by default: no chance to clean up) and waits until the process is gone.
    public func kill(_ signal: Int32 = 9) {
        guard isRunning else { return }
        Foundation.kill(process.processIdentifier, signal)
        var status: Int32 = 0
        // Either this reaps the child, or Foundation already did (ECHILD): it has exited either way.
        _ = waitpid(process.processIdentifier, &status, 0)
        reaped.value = true
    }

    /// Sends `signal` and waits for the exit; returns the exit status, or nil when a signal
    /// ended the process (it did not handle `signal` and exit by itself).
    public func stop(_ signal: Int32 = 15) -> Int32? {
        guard isRunning else { return nil }
        Foundation.kill(process.processIdentifier, signal)
        process.waitUntilExit()
        reaped.value = true
        return process.terminationReason == .exit ? process.terminationStatus : nil
    }

    deinit {
        kill()
    }
}

extension Git2KVBinary {
    /// Starts `git2kv kv-server` on a free loopback port; its address is `http://127.0.0.1:<port>`.
    public static func startKVServer(dataDirectory: String? = nil, extraArguments: [String] = []) throws -> (BackgroundProcess, Int) {
        var arguments = ["kv-server", "--listen", "127.0.0.1:0"]
        if let dataDirectory { arguments += ["--data-dir", dataDirectory] }
        let process = try BackgroundProcess(path, arguments + extraArguments)
        guard let port = process.announcedPort else {
            throw GitCLI.Failure(arguments: arguments, status: -1, standardError: "kv-server did not announce a port: \(process.firstLine)")
        }
        return (process, port)
    }
}

/// Set once a background process is known to have exited.
private final class ReapedFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var flag = false

    var value: Bool {
        get { lock.withLock { flag } }
        set { lock.withLock { flag = newValue } }
    }
}
