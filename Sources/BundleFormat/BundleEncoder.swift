import CompressNIO
import NIOCore

/// Encodes bundles into their KV value. The same bundle always gives the same bytes.
public enum BundleEncoder {
    /// Refuses (`.tooLarge`) a bundle that a reader with `limits` would refuse: what is written
    /// is always readable.
    public static func encode(_ bundle: ConfigBundle, limits: BundleLimits = .default) throws(BundleError) -> [UInt8] {
        try BundlePathRules.validateList(bundle.files.map(\.path))
        let headerBytes = headerBytes(of: bundle)
        if let refusal = refusal(headerSize: headerBytes.count, bundle: bundle, limits: limits) {
            throw BundleError(.tooLarge, refusal)
        }
        return try assemble(headerBytes: headerBytes, contents: bundle.files.map(\.content))
    }

    /// Why a reader with `limits` would refuse `bundle` (header or whole payload too large), or nil.
    /// The header is encoded only when a generous estimate of its size comes near a limit, so
    /// the check costs next to nothing for ordinary bundles.
    public static func refusal(of bundle: ConfigBundle, limits: BundleLimits = .default) -> String? {
        let contents = bundle.files.reduce(0) { $0 + $1.content.count }
        let estimate = headerEstimate(of: bundle)
        if estimate <= limits.maxHeaderSize, 4 + estimate + contents <= limits.maxDecodedSize {
            return nil
        }
        return refusal(headerSize: headerBytes(of: bundle).count, bundle: bundle, limits: limits)
    }

    /// At least the encoded header's size: every byte of a path escaped (6 bytes), a file's
    /// mode, size and digest fields, and the source and commit with room to spare.
    private static func headerEstimate(of bundle: ConfigBundle) -> Int {
        let text = [bundle.source.repo, bundle.source.branch, bundle.source.path, bundle.commit.id, bundle.commit.author, bundle.commit.email, bundle.commit.summary]
        return 1024 + text.reduce(0) { $0 + 6 * $1.utf8.count } + bundle.files.reduce(0) { $0 + 6 * $1.path.utf8.count + 256 }
    }

    private static func headerBytes(of bundle: ConfigBundle) -> [UInt8] {
        BundleHeader(source: bundle.source, commit: bundle.commit, files: bundle.entries, digest: bundle.digest).canonicalJSON()
    }

    private static func refusal(headerSize: Int, bundle: ConfigBundle, limits: BundleLimits) -> String? {
        if headerSize > limits.maxHeaderSize {
            return "its header (the list of \(bundle.files.count) files) is \(headerSize) bytes, over the limit of \(limits.maxHeaderSize) that readers accept; split the directory"
        }
        let payload = 4 + headerSize + bundle.files.reduce(0) { $0 + $1.content.count }
        if payload > limits.maxDecodedSize {
            return "its \(bundle.files.count) files and header add up to \(payload) bytes, over the limit of \(limits.maxDecodedSize) that readers accept"
        }
        return nil
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
