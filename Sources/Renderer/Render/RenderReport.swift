/// What one render pass did to each output and which commands it ran.
public struct RenderReport: Sendable {
    public enum Status: Sendable, Equatable {
        case unchanged
        case written(inPlace: Bool)
        /// `--dry-run`: the destination would change like this diff.
        case wouldChange(diff: String)
        case failed(RenderError)
    }

    public struct Output: Sendable {
        public var destination: String
        public var bundle: String
        public var commit: String?
        public var status: Status
    }

    public struct Command: Sendable {
        public var argv: [String]
        /// The outputs it ran for.
        public var destinations: [String]
        /// nil when it succeeded (or, in a dry run, would have run).
        public var error: RenderError?
    }

    public var outputs: [Output] = []
    public var commands: [Command] = []

    public var failures: [RenderError] {
        outputs.compactMap { if case .failed(let error) = $0.status { error } else { nil } } + commands.compactMap(\.error)
    }

    public var succeeded: Bool { failures.isEmpty }

    /// `--once` and `--dry-run`: 1 when anything failed; a dry run that would change an output
    /// exits 2 (as `diff` does), so scripts can tell "all in place" from "would deliver".
    public func exitStatus(dryRun: Bool) -> Int32 {
        guard succeeded else { return 1 }
        let wouldChange = outputs.contains { if case .wouldChange = $0.status { true } else { false } }
        return dryRun && wouldChange ? 2 : 0
    }
}
