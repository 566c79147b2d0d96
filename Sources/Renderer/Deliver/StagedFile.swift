import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// New content written next to its destination (same directory, so the rename is atomic),
/// flushed to disk, with its final mode and owner, waiting to replace the destination.
struct StagedFile {
    let path: String
    let destination: String

    static let marker = ".git2kv-staged-"

    /// Where a staged file for `destination` is written: a hidden name in the same directory.
    static func stagedPrefix(for destination: String) -> String {
        let url = URL(fileURLWithPath: destination)
        return url.deletingLastPathComponent().path + "/." + url.lastPathComponent + marker
    }

    static func write(
        _ bytes: [UInt8], for destination: String, mode: mode_t, owner: uid_t?, group: gid_t?, flush: Bool = true
    ) throws(RenderError) -> StagedFile {
        let path = stagedPrefix(for: destination) + String(UInt64.random(in: 0...UInt64.max), radix: 36)
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw FileSystemError.failure("cannot create \(path)") }
        let staged = StagedFile(path: path, destination: destination)
        do throws(RenderError) {
            defer { close(descriptor) }
            try FileSystemError.writeAll(bytes, to: descriptor, path: path)
            if owner != nil || group != nil, fchown(descriptor, owner ?? uid_t.max, group ?? gid_t.max) != 0 {
                throw FileSystemError.failure("cannot set the owner of \(path)")
            }
            guard fchmod(descriptor, mode) == 0 else { throw FileSystemError.failure("cannot set the mode of \(path)") }
            guard !flush || fsync(descriptor) == 0 else { throw FileSystemError.failure("cannot flush \(path) to disk") }
        } catch {
            staged.discard()
            throw error
        }
        return staged
    }

    func discard() {
        unlink(path)
    }

    /// Replaces the destination: a rename, which readers see as all old or all new. Where the
    /// destination cannot be renamed over (a bind-mounted file: EBUSY, EXDEV), the content is
    /// written in place instead, and the result says so.
    func commit(_ bytes: [UInt8], flush: Bool = true) throws(RenderError) -> Bool {
        if rename(path, destination) == 0 {
            if flush { try Self.syncDirectory(of: destination) }
            return false
        }
        let renameError = errno
        guard renameError == EBUSY || renameError == EXDEV else {
            discard()
            throw FileSystemError.failure("cannot rename \(path) over \(destination)", code: renameError)
        }
        defer { discard() }
        let descriptor = open(destination, O_WRONLY | O_TRUNC | O_CLOEXEC)
        guard descriptor >= 0 else { throw FileSystemError.failure("cannot open \(destination) to write it in place") }
        defer { close(descriptor) }
        try FileSystemError.writeAll(bytes, to: descriptor, path: destination)
        guard fsync(descriptor) == 0 else { throw FileSystemError.failure("cannot flush \(destination) to disk") }
        return true
    }

    /// Makes a rename durable: the directory entry is flushed, not only the file.
    static func syncDirectory(of path: String) throws(RenderError) {
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        let descriptor = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { throw FileSystemError.failure("cannot open directory \(directory)") }
        defer { close(descriptor) }
        guard fsync(descriptor) == 0 else { throw FileSystemError.failure("cannot flush directory \(directory)") }
    }

    /// Removes staged files a killed renderer left behind next to `destination`.
    static func removeLeftovers(for destination: String) {
        let prefix = stagedPrefix(for: destination)
        let directory = URL(fileURLWithPath: prefix).deletingLastPathComponent().path
        let namePrefix = URL(fileURLWithPath: prefix).lastPathComponent
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return }
        for name in names where name.hasPrefix(namePrefix) { unlink(directory + "/" + name) }
    }
}

enum FileSystemError {
    static func failure(_ what: String, code: Int32 = errno) -> RenderError {
        RenderError(.write, "\(what): \(String(cString: strerror(code)))")
    }

    static func writeAll(_ bytes: [UInt8], to descriptor: Int32, path: String) throws(RenderError) {
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { buffer in
                write(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
            }
            if written < 0 {
                if errno == EINTR { continue }
                throw failure("cannot write \(path)")
            }
            offset += written
        }
    }
}
