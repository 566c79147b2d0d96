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
}
