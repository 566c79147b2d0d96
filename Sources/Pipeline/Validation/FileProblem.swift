/// Why a file (and so its bundle) was not synced: which file, which line, what is wrong.
public struct FileProblem: Sendable, Hashable, Codable, CustomStringConvertible {
    /// Path relative to the repository root.
    public var file: String
    public var line: Int?
    public var reason: String

    public init(file: String, line: Int? = nil, reason: String) {
        self.file = file
        self.line = line
        self.reason = reason
    }

    public var description: String {
        if let line { return "\(file):\(line): \(reason)" }
        return "\(file): \(reason)"
    }
}
