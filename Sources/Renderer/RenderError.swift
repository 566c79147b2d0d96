/// Why an output was not delivered, or the renderer could not start, in an operator's words.
public struct RenderError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable, Equatable {
        /// The KV store could not be read.
        case kv
        /// The bundle is corrupt, truncated or of an unknown version.
        case bundle
        /// The bundle key does not exist.
        case missing
        /// The template could not be read, parsed or rendered.
        case template
        /// The content failed a guard (`min_lines`, a missing file in the bundle).
        case guardFailed = "guard"
        /// The check command rejected the staged file.
        case check
        /// Writing, renaming or setting owner and mode failed.
        case write
        /// The command after delivery failed or timed out.
        case command
        /// The state directory could not be read or written.
        case state
    }

    public let kind: Kind
    public let message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }
}

extension RenderError {
    /// The result of an async step that fails with a RenderError.
    static func capture<Value>(_ body: () async throws(RenderError) -> Value) async -> Result<Value, RenderError> {
        do {
            return .success(try await body())
        } catch {
            return .failure(error)
        }
    }
}
