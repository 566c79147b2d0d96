/// Constants of the encoded form (docs/bundle-format.md).
public enum BundleWire {
    /// "G2KB": a bundle value.
    public static let bundleMagic: [UInt8] = Array("G2KB".utf8)
    /// "G2KM": a manifest of a chunked bundle.
    public static let manifestMagic: [UInt8] = Array("G2KM".utf8)
    public static let version: UInt8 = 1
    /// zlib stream (RFC 1950).
    static let compressionZlib: UInt8 = 1
    static let bundlePreambleSize = 6
    static let manifestPreambleSize = 5

    /// What kind of value some bytes hold, judged by their first bytes only.
    public enum ValueKind: Sendable, Equatable {
        case bundle
        case manifest
        case unknown
    }

    public static func kind(of value: some Collection<UInt8>) -> ValueKind {
        if value.starts(with: bundleMagic) { return .bundle }
        if value.starts(with: manifestMagic) { return .manifest }
        return .unknown
    }
}

/// Limits that protect a decoder from hostile values.
public struct BundleLimits: Sendable {
    /// Largest decompressed payload accepted.
    public var maxDecodedSize: Int
    /// Largest header accepted.
    public var maxHeaderSize: Int

    public init(maxDecodedSize: Int = 64 << 20, maxHeaderSize: Int = 16 << 20) {
        self.maxDecodedSize = maxDecodedSize
        self.maxHeaderSize = maxHeaderSize
    }

    public static let `default` = BundleLimits()
}
