import Foundation

/// Serves the bare repositories under a directory over git's smart HTTP protocol on
/// 127.0.0.1 (a free port), with basic authentication. Runs Tests/Support/git_http_server.py.
public final class GitHTTPServer: Sendable {
    public let port: Int
    private let process: BackgroundProcess
    private let scheme: String

    /// `username` nil serves without authentication. With `tls` (PEM certificate and key files)
    /// it speaks HTTPS.
    public init(root: String, username: String?, password: String = "", tls: (certificate: String, key: String)? = nil) throws {
        let script = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Tests/Support/git_http_server.py").path
        scheme = tls == nil ? "http" : "https"
        process = try BackgroundProcess("/usr/bin/python3", [script, root, username ?? "-", password] + (tls.map { [$0.certificate, $0.key] } ?? []))
        guard let port = Int(process.firstLine) else {
            process.kill()
            throw GitCLI.Failure(arguments: ["git_http_server.py"], status: -1, standardError: "did not print its port")
        }
        self.port = port
    }

    public func url(for repository: String) -> String { "\(scheme)://127.0.0.1:\(port)/\(repository)" }

    public func stop() {
        process.kill()
    }
}

/// A loopback TCP port with nothing listening on it (bound, then released). A port is handed
/// out once per process, so tests starting servers in parallel never get the same one.
public enum ClosedPort {
    private static let issued = IssuedPorts()

    public static func find() -> Int { find(count: 1)[0] }

    /// `count` distinct ports: each stays bound until all are found, so none repeats.
    public static func find(count: Int) -> [Int] {
        var descriptors: [Int32] = []
        defer { descriptors.forEach { close($0) } }
        var ports: [Int] = []
        while ports.count < count {
            let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            descriptors.append(descriptor)
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
            let port = Int(UInt16(bigEndian: address.sin_port))
            if issued.claim(port) { ports.append(port) }
        }
        return ports
    }
}

private final class IssuedPorts: @unchecked Sendable {
    private let lock = NSLock()
    private var ports = Set<Int>()

    func claim(_ port: Int) -> Bool {
        lock.withLock { ports.insert(port).inserted }
    }
}
