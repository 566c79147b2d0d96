import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Runs a program to completion, feeding it input and collecting both output streams.
///
/// Built on posix_spawn, poll and waitpid rather than Foundation's `Process`, whose
/// `waitUntilExit` can hang after the child is gone; tests call this from async code, where a
/// hang holds one of the few cooperative threads for good.
public enum ProcessRunner {
    public struct Result: Sendable {
        public let status: Int32
        public let standardOutput: [UInt8]
        public let standardError: [UInt8]

        public var output: String { String(decoding: standardOutput, as: UTF8.self) }
        public var errors: String { String(decoding: standardError, as: UTF8.self) }
    }

    public struct LaunchFailure: Error, CustomStringConvertible {
        public let description: String
    }

    private static let ignoreBrokenPipes: Void = { signal(SIGPIPE, SIG_IGN) }()

    public static func run(
        _ executable: String, _ arguments: [String], in directory: String? = nil,
        environment: [String: String]? = nil, input: [UInt8]? = nil
    ) throws -> Result {
        _ = ignoreBrokenPipes
        let stdinPipe = try makePipe()
        let stdoutPipe = try makePipe()
        let stderrPipe = try makePipe()

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        if input == nil {
            posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        } else {
            posix_spawn_file_actions_adddup2(&actions, stdinPipe.read, 0)
        }
        posix_spawn_file_actions_adddup2(&actions, stdoutPipe.write, 1)
        posix_spawn_file_actions_adddup2(&actions, stderrPipe.write, 2)
        if let directory {
            guard GNUExtensions.addChdir(&actions, directory) == 0 else {
                throw LaunchFailure(description: "cannot run \(executable) in \(directory)")
            }
        }

        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let environmentStrings = (environment ?? ProcessInfo.processInfo.environment).map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            environmentStrings.forEach { free($0) }
        }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, executable, &actions, nil, argv, environmentStrings)
        close(stdinPipe.read)
        close(stdoutPipe.write)
        close(stderrPipe.write)
        guard spawned == 0 else {
            close(stdinPipe.write)
            close(stdoutPipe.read)
            close(stderrPipe.read)
            throw LaunchFailure(description: "cannot start \(executable): \(String(cString: strerror(spawned)))")
        }

        let (output, errors) = exchange(input: input ?? [], stdin: stdinPipe.write, stdout: stdoutPipe.read, stderr: stderrPipe.read)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0, errno == EINTR {}
        let exited = status & 0x7f == 0
        return Result(status: exited ? (status >> 8) & 0xff : 128 + (status & 0x7f), standardOutput: output, standardError: errors)
    }

    /// Writes the input and reads both outputs until the child closes them, without threads.
    private static func exchange(input: [UInt8], stdin: Int32, stdout: Int32, stderr: Int32) -> ([UInt8], [UInt8]) {
        var output: [UInt8] = []
        var errors: [UInt8] = []
        var written = 0
        var stdinOpen = true
        if input.isEmpty {
            close(stdin)
            stdinOpen = false
        } else {
            _ = fcntl(stdin, F_SETFL, fcntl(stdin, F_GETFL) | O_NONBLOCK)
        }
        var readers: [Int32] = [stdout, stderr]
        var buffer = [UInt8](repeating: 0, count: 65536)
        while !readers.isEmpty || stdinOpen {
            var descriptors = readers.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            if stdinOpen { descriptors.append(pollfd(fd: stdin, events: Int16(POLLOUT), revents: 0)) }
            let ready = poll(&descriptors, nfds_t(descriptors.count), -1)
            if ready < 0 {
                if errno == EINTR { continue }
                break
            }
            for descriptor in descriptors where descriptor.revents != 0 {
                if descriptor.fd == stdin, stdinOpen {
                    let count = input[written...].withUnsafeBytes { write(stdin, $0.baseAddress, $0.count) }
                    if count > 0 { written += count }
                    if written == input.count || (count < 0 && errno != EAGAIN && errno != EINTR) {
                        close(stdin)
                        stdinOpen = false
                    }
                    continue
                }
                let count = buffer.withUnsafeMutableBytes { read(descriptor.fd, $0.baseAddress, $0.count) }
                if count > 0 {
                    if descriptor.fd == stdout { output += buffer[..<count] } else { errors += buffer[..<count] }
                } else if count == 0 || (errno != EINTR && errno != EAGAIN) {
                    close(descriptor.fd)
                    readers.removeAll { $0 == descriptor.fd }
                }
            }
        }
        return (output, errors)
    }

    private static func makePipe() throws -> (read: Int32, write: Int32) {
        var descriptors: [Int32] = [0, 0]
        guard GNUExtensions.pipe2(&descriptors, O_CLOEXEC) == 0 else {
            throw LaunchFailure(description: "cannot create a pipe: \(String(cString: strerror(errno)))")
        }
        return (descriptors[0], descriptors[1])
    }
}

/// glibc functions Swift's Glibc module does not import (they need _GNU_SOURCE), looked up at run time.
private enum GNUExtensions {
    typealias Pipe2 = @convention(c) (UnsafeMutablePointer<Int32>, Int32) -> Int32
    typealias AddChdir = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> Int32

    static let pipe2: Pipe2 = unsafeBitCast(dlsym(UnsafeMutableRawPointer(bitPattern: 0), "pipe2"), to: Pipe2.self)
    static let addChdir: AddChdir = unsafeBitCast(
        dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addchdir_np"), to: AddChdir.self)
}
