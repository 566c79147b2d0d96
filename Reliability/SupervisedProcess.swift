import Foundation

/// One of the processes the chaos kills: started with its output appended to a log file,
/// killed with SIGKILL at any moment, started again with the same arguments.
final class SupervisedProcess: @unchecked Sendable {
    let name: String
    let healthURL: String
    private let executable: String
    private let arguments: [String]
    private let environment: [String: String]
    private let logPath: String
    private let lock = NSLock()
    private var process: Process?

    init(name: String, executable: String, arguments: [String], environment: [String: String] = [:], logPath: String, healthURL: String) {
        self.name = name
        self.executable = executable
        self.arguments = arguments
        self.environment = environment
        self.logPath = logPath
        self.healthURL = healthURL
    }

    func start() throws {
        if !FileManager.default.fileExists(atPath: logPath) {
            _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        }
        guard let log = FileHandle(forWritingAtPath: logPath) else {
            throw ReliabilityFailure("cannot open \(logPath) for \(name)'s output")
        }
        log.seekToEndOfFile()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        process.standardOutput = log
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        try process.run()
        try? log.close()
        lock.withLock { self.process = process }
    }

    var isRunning: Bool { lock.withLock { process?.isRunning ?? false } }

    /// kill -9, and waits until the process is gone.
    func kill9() {
        guard let process = lock.withLock({ self.process }) else { return }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            var status: Int32 = 0
            // Foundation may reap the child first (ECHILD); it has exited either way.
            _ = waitpid(process.processIdentifier, &status, 0)
        }
        lock.withLock { self.process = nil }
    }

    /// SIGTERM; returns whether it exited by itself within `grace` (else it is killed).
    @discardableResult
    func terminate(grace: TimeInterval = 15) -> Bool {
        guard let process = lock.withLock({ self.process }), process.isRunning else { return true }
        kill(process.processIdentifier, SIGTERM)
        let deadline = Date().addingTimeInterval(grace)
        while process.isRunning, Date() < deadline { usleep(50_000) }
        let exited = !process.isRunning
        kill9()
        return exited
    }
}

struct ReliabilityFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
