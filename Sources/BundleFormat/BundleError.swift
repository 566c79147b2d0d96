/// Why bytes could not be encoded or decoded as a bundle, in words an operator understands.
public struct BundleError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable, Equatable {
        /// The bytes do not start with a git2kv bundle or manifest marker.
        case notABundle
        /// A format version this build does not know.
        case unsupportedVersion
        /// A compression method this build does not know.
        case unsupportedCompression
        /// The value ends before the data it announces.
        case truncated
        /// The value carries bytes past the data it announces.
        case trailingBytes
        /// The compressed stream or the header cannot be read.
        case corrupt
        /// The value or its content is larger than allowed.
        case tooLarge
        /// A file's content does not match its recorded sha256.
        case checksumMismatch
        /// The bundle's digest does not match its files.
        case digestMismatch
        /// A file path that is empty, absolute, or climbs out with `..`.
        case invalidPath
        /// Two files with the same path, or files out of order.
        case invalidFileList
        /// A chunk is missing or does not match the manifest.
        case chunkMismatch
    }

    public let kind: Kind
    public let message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { "bundle: \(message)" }
}
