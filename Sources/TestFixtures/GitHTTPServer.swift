import Foundation

/// Serves the bare repositories under a directory over git's smart HTTP protocol on
/// 127.0.0.1 (a free port), with basic authentication. Runs Tests/Support/git_http_server.py.
public final class GitHTTPServer: @unchecked Sendable {
    public let port: Int
    private let process: Process

    /// `username` nil serves without authentication.
    public init(root: String, username: String?, password: String = "") throws {
        let script = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Tests/Support/git_http_server.py").path
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = [script, root, username ?? "-", password]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        var line = Data()
        while let byte = try output.fileHandleForReading.read(upToCount: 1), !byte.isEmpty, byte != Data("\n".utf8) {
            line += byte
        }
        guard let port = Int(String(decoding: line, as: UTF8.self)) else {
            process.terminate()
            throw GitCLI.Failure(arguments: ["git_http_server.py"], status: -1, standardError: "did not print its port")
        }
        self.port = port
    }

    public func url(for repository: String) -> String { "http://127.0.0.1:\(port)/\(repository)" }

    public func stop() {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }

    deinit {
        stop()
    }
}

/// A loopback TCP port with nothing listening on it (bound, then released).
public enum ClosedPort {
    public static func find() -> Int {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(descriptor, pointer, length)
                return getsockname(descriptor, pointer, &length)
            }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
