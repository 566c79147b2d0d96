import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What delivering an output's content did.
public enum DeliveryOutcome: Sendable, Equatable {
    /// The destination already held these bytes with this mode and owner.
    case unchanged
    /// Replaced by rename (or, `inPlace`, written over because it could not be renamed over).
    case written(inPlace: Bool)
}

/// Puts content at an output's destination so that no reader, and no crash, ever sees a mix:
/// stage next to it, fsync, check the staged file, keep a `.bak`, rename, fsync the directory.
enum FileDelivery {
    /// `beforeReplacing` runs after the check passed and before the rename (to record durably
    /// that the command is owed, so a crash between rename and command still runs it).
    static func deliver(
        _ bytes: [UInt8], for output: OutputConfig, beforeReplacing: () throws(RenderError) -> Void
    ) async throws(RenderError) -> DeliveryOutcome {
        let destination = output.destination
        let existing = Existing.read(destination)
        let owner = try output.owner.map { name throws(RenderError) in try Self.userID(name) }
        let group = try output.group.map { name throws(RenderError) in try Self.groupID(name) }
        let mode = output.mode.map { mode_t($0) } ?? existing?.mode ?? 0o644
        if let existing, existing.content == bytes, existing.mode == mode,
            owner == nil || owner == existing.owner, group == nil || group == existing.group
        {
            return .unchanged
        }
        let directory = URL(fileURLWithPath: destination).deletingLastPathComponent().path
        guard FileManager.default.fileExists(atPath: directory) else {
            throw RenderError(.write, "directory \(directory) of \(destination) does not exist")
        }
        // Keep the old file's owner when none is configured; only root can give a file away.
        let keepOwner = geteuid() == 0 ? existing : nil
        let staged = try StagedFile.write(
            bytes, for: destination, mode: mode, owner: owner ?? keepOwner?.owner, group: group ?? keepOwner?.group)
        if let check = output.check {
            let argv = check.map { $0.replacingOccurrences(of: OutputConfig.stagedPlaceholder, with: staged.path) }
            do {
                try await CommandRunner.run(argv, timeout: output.commandTimeout, what: "check", kind: .check)
            } catch {
                staged.discard()
                // The staged file's random name is gone with it: the message names the
                // placeholder, so the same failure reads the same every time (and reports once).
                let message = error.message.replacingOccurrences(of: staged.path, with: OutputConfig.stagedPlaceholder)
                throw RenderError(.check, "\(message); \(destination) was left as it was")
            }
        }
        do {
            try beforeReplacing()
        } catch {
            staged.discard()
            throw error
        }
        if output.backup, let existing {
            do {
                let backup = try StagedFile.write(existing.content, for: destination + ".bak", mode: existing.mode, owner: nil, group: nil)
                _ = try backup.commit(existing.content)
            } catch {
                staged.discard()
                throw error
            }
        }
        return .written(inPlace: try staged.commit(bytes))
    }

    /// The destination as it is now, or nil when it does not exist.
    struct Existing {
        var content: [UInt8]
        var mode: mode_t
        var owner: uid_t
        var group: gid_t

        static func read(_ path: String) -> Existing? {
            var info = stat()
            guard stat(path, &info) == 0, let data = FileManager.default.contents(atPath: path) else { return nil }
            return Existing(content: [UInt8](data), mode: info.st_mode & 0o7777, owner: info.st_uid, group: info.st_gid)
        }
    }

    static func userID(_ name: String) throws(RenderError) -> uid_t {
        if let number = uid_t(name) { return number }
        var entry = passwd()
        var result: UnsafeMutablePointer<passwd>?
        var buffer = [CChar](repeating: 0, count: 16384)
        guard getpwnam_r(name, &entry, &buffer, buffer.count, &result) == 0, result != nil else {
            throw RenderError(.write, "owner \(name) is not a user on this node")
        }
        return entry.pw_uid
    }

    static func groupID(_ name: String) throws(RenderError) -> gid_t {
        if let number = gid_t(name) { return number }
        var entry = group()
        var result: UnsafeMutablePointer<group>?
        var buffer = [CChar](repeating: 0, count: 16384)
        guard getgrnam_r(name, &entry, &buffer, buffer.count, &result) == 0, result != nil else {
            throw RenderError(.write, "group \(name) is not a group on this node")
        }
        return entry.gr_gid
    }
}
