import Foundation

/// A real OpenSSH server on a free loopback port, for SSH remotes: its own host key, the user
/// keys it accepts (an ed25519 and an RSA one, both unencrypted) and `git-upload-pack` through
/// the current user's shell. Stopped with `stop()`.
public final class SSHServer: @unchecked Sendable {
    public let port: Int
    public let directory: String
    /// The server's host key line for a known_hosts file: `[127.0.0.1]:PORT ssh-ed25519 AAAA…`.
    public let knownHostsLine: String
    public let ed25519Key: String
    public let rsaKey: String
    public let user: String
    private let process: Process

    public init(directory: String) throws {
        self.directory = directory
        user = ProcessInfo.processInfo.environment["USER"] ?? (try? ProcessRunner.run("/usr/bin/id", ["-un"]).output.trimmingCharacters(in: .whitespacesAndNewlines)) ?? "root"
        ed25519Key = directory + "/id_ed25519"
        rsaKey = directory + "/id_rsa"
        for (file, type) in [(directory + "/host_ed25519", "ed25519"), (ed25519Key, "ed25519"), (rsaKey, "rsa")] {
            let result = try ProcessRunner.run("/usr/bin/ssh-keygen", ["-q", "-t", type, "-N", "", "-C", "git2kv-test", "-f", file])
            guard result.status == 0 else { throw GitCLI.Failure(arguments: ["ssh-keygen", file], status: result.status, standardError: result.errors) }
        }
        let authorized = try [ed25519Key, rsaKey].map { try String(contentsOfFile: $0 + ".pub", encoding: .utf8) }.joined()
        try authorized.write(toFile: directory + "/authorized_keys", atomically: true, encoding: .utf8)
        port = ClosedPort.find()
        let hostKey = try String(contentsOfFile: directory + "/host_ed25519.pub", encoding: .utf8).split(separator: " ")
        knownHostsLine = "[127.0.0.1]:\(port) \(hostKey[0]) \(hostKey[1])"
        try """
            Port \(port)
            ListenAddress 127.0.0.1
            HostKey \(directory)/host_ed25519
            PidFile \(directory)/sshd.pid
            AuthorizedKeysFile \(directory)/authorized_keys
            PasswordAuthentication no
            KbdInteractiveAuthentication no
            UsePAM no
            StrictModes no
            PermitRootLogin prohibit-password
            AllowUsers \(user)

            """.write(toFile: directory + "/sshd_config", atomically: true, encoding: .utf8)
        // sshd started as root wants its privilege-separation directory.
        if getuid() == 0 { try? FileManager.default.createDirectory(atPath: "/run/sshd", withIntermediateDirectories: true) }
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/sbin/sshd")
        process.arguments = ["-D", "-e", "-f", directory + "/sshd_config"]
        process.standardOutput = FileHandle.nullDevice
        _ = FileManager.default.createFile(atPath: directory + "/sshd.log", contents: nil)
        process.standardError = FileHandle(forWritingAtPath: directory + "/sshd.log")
        try process.run()
        let deadline = Date().addingTimeInterval(10)
        while !Self.accepts(port: port) {
            guard process.isRunning, Date() < deadline else {
                process.terminate()
                let log = (try? String(contentsOfFile: directory + "/sshd.log", encoding: .utf8)) ?? ""
                throw GitCLI.Failure(arguments: ["sshd"], status: -1, standardError: "sshd did not listen on \(port): \(log)")
            }
            usleep(20_000)
        }
    }

    /// `ssh://USER@127.0.0.1:PORT/ABSOLUTE/PATH`.
    public func url(for repository: String) -> String { "ssh://\(user)@127.0.0.1:\(port)\(repository)" }

    public func stop() {
        guard process.isRunning else { return }
        process.terminate()
        process.waitUntilExit()
    }

    deinit { stop() }

    private static func accepts(port: Int) -> Bool {
        guard let descriptor = LoopbackSocket.connect(port: port) else { return false }
        close(descriptor)
        return true
    }
}
