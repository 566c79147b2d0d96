import Foundation

/// What was last delivered to each output, kept in `<state_dir>/render-state.json` so that a
/// restart neither rewrites a file nor re-runs a command for bytes it already delivered.
public struct RenderState: Codable, Sendable, Equatable {
    public struct Output: Codable, Sendable, Equatable {
        public var bundle: String
        /// The commit of the bundle the delivered content came from.
        public var commit: String?
        /// sha256 of the delivered bytes.
        public var digest: String?
        /// Seconds since 1970 of the last delivery.
        public var deliveredAt: Double?
        /// Set between a delivery and its command's success: a command that failed, or a crash
        /// before it ran, leaves it owed, and it runs again (after restarts too) until it succeeds.
        public var commandPending: Bool
        /// Why the output's last pass failed (nil after one that succeeded).
        public var lastError: String?
        public var lastErrorAt: Double?
        /// What kind of step failed last (a RenderError kind) and the commit it failed for.
        public var lastErrorKind: String?
        public var failedCommit: String?
        /// The content in place came from the bundle's canary value.
        public var canary: Bool?
        /// How often in a row the owed command has failed, and its last error.
        public var commandFailures: Int?
        public var commandError: String?
        public var commandErrorAt: Double?
    }

    /// Destinations whose command is owed after it failed, with how often it failed.
    public var failedCommands: [String: Int] {
        outputs.compactMapValues { $0.commandPending ? $0.commandFailures : nil }
    }

    public var version = 1
    /// By destination path.
    public var outputs: [String: Output] = [:]

    public init() {}

    public static func file(in directory: String) -> String { directory + "/render-state.json" }

    /// The saved state; a missing file is an empty state, an unreadable one an error.
    public static func load(from directory: String) throws(RenderError) -> RenderState {
        let path = file(in: directory)
        guard FileManager.default.fileExists(atPath: path) else { return RenderState() }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw RenderError(.state, "cannot read \(path)")
        }
        do {
            return try JSONDecoder().decode(RenderState.self, from: data)
        } catch {
            throw RenderError(.state, "\(path) is not a render state file (\(error)); move it away to start afresh")
        }
    }

    /// Written like an output: staged, renamed; flushed to disk first when `durable` (a command
    /// is owed), otherwise left to the kernel (what it records can be learnt again from the files).
    public func save(to directory: String, durable: Bool = true) throws(RenderError) {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw RenderError(.state, "cannot create state directory \(directory): \(error.localizedDescription)")
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let bytes: [UInt8]
        do {
            bytes = [UInt8](try encoder.encode(self))
        } catch {
            throw RenderError(.state, "cannot encode the render state: \(error)")
        }
        do {
            let staged = try StagedFile.write(bytes, for: Self.file(in: directory), mode: 0o644, owner: nil, group: nil, flush: durable)
            _ = try staged.commit(bytes, flush: durable)
        } catch {
            throw RenderError(.state, error.message)
        }
    }
}
