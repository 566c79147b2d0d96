import CompressNIO
import NIOCore

/// Encodes bundles into their KV value. The same bundle always gives the same bytes.
public enum BundleEncoder {
    public static func encode(_ bundle: ConfigBundle) throws(BundleError) -> [UInt8] {
        try BundlePathRules.validateList(bundle.files.map(\.path))
        let entries = bundle.entries
        let header = BundleHeader(
            source: bundle.source, commit: bundle.commit, files: entries, digest: BundleDigest.compute(entries))
        return try assemble(headerBytes: CanonicalJSON.encode(header), contents: bundle.files.map(\.content))
    }

    /// Frames, compresses and prefixes an already encoded header and the file contents.
    static func assemble(
        headerBytes: [UInt8], contents: [[UInt8]], version: UInt8 = BundleWire.version
    ) throws(BundleError) -> [UInt8] {
        let contentSize = contents.reduce(0) { $0 + $1.count }
        var payload = ByteBuffer()
        payload.reserveCapacity(4 + headerBytes.count + contentSize)
        payload.writeInteger(UInt32(headerBytes.count), endianness: .big)
        payload.writeBytes(headerBytes)
        for content in contents { payload.writeBytes(content) }

        let compressed: ByteBuffer
        do {
            compressed = try payload.compress(with: .zlib(configuration: .init(compressionLevel: .bestCompression)))
        } catch {
            throw BundleError(.corrupt, "compression failed: \(error)")
        }
        var value = BundleWire.bundleMagic
        value.reserveCapacity(BundleWire.bundlePreambleSize + compressed.readableBytes)
        value.append(version)
        value.append(BundleWire.compressionZlib)
        value += compressed.readableBytesView
        return value
    }
}
