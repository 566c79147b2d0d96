/// Decodes and verifies bundle values. Every check passes or nothing is returned: version,
/// compression, header, sizes, every file's sha256 and the digest.
public enum BundleDecoder {
    public static func decode(_ value: some Collection<UInt8>, limits: BundleLimits = .default) throws(BundleError) -> ConfigBundle {
        let (header, payload, contentStart) = try open(value, limits: limits)
        var files: [BundleFile] = []
        files.reserveCapacity(header.files.count)
        var offset = contentStart
        for entry in header.files {
            let content = Array(payload[offset..<offset + entry.size])
            offset += entry.size
            let actual = SHA256Hex.of(content)
            guard actual == entry.sha256 else {
                throw BundleError(
                    .checksumMismatch,
                    "file \(entry.path) does not match its checksum (recorded \(entry.sha256.prefix(12)), content \(actual.prefix(12)))")
            }
            files.append(BundleFile(path: entry.path, mode: entry.mode, content: content))
        }
        return ConfigBundle(source: header.source, commit: header.commit, files: files)
    }

    /// Reads and checks the header (list, sizes and digest) without hashing file contents.
    public static func decodeHeader(_ value: some Collection<UInt8>, limits: BundleLimits = .default) throws(BundleError) -> BundleHeader {
        try open(value, limits: limits).header
    }

    private static func open(
        _ value: some Collection<UInt8>, limits: BundleLimits
    ) throws(BundleError) -> (header: BundleHeader, payload: [UInt8], contentStart: Int) {
        let bytes = Array(value)
        guard bytes.count >= BundleWire.bundlePreambleSize else {
            if BundleWire.bundleMagic.starts(with: bytes) || bytes.starts(with: BundleWire.bundleMagic) {
                throw BundleError(.truncated, "value is \(bytes.count) bytes, shorter than a bundle preamble")
            }
            throw BundleError(.notABundle, "value does not start with the git2kv bundle marker G2KB")
        }
        guard bytes.starts(with: BundleWire.bundleMagic) else {
            if bytes.starts(with: BundleWire.manifestMagic) {
                throw BundleError(.notABundle, "value is a chunk manifest; reassemble its chunks first")
            }
            throw BundleError(.notABundle, "value does not start with the git2kv bundle marker G2KB")
        }
        guard bytes[4] == BundleWire.version else {
            throw BundleError(.unsupportedVersion, "bundle format version \(bytes[4]) is not supported (this build reads version \(BundleWire.version))")
        }
        guard bytes[5] == BundleWire.compressionZlib else {
            throw BundleError(.unsupportedCompression, "compression method \(bytes[5]) is not supported")
        }
        let payload = try Zlib.inflate(bytes[BundleWire.bundlePreambleSize...], limit: limits.maxDecodedSize)

        guard payload.count >= 4 else { throw BundleError(.truncated, "payload ends before the header length") }
        let headerLength = Int(payload[0]) << 24 | Int(payload[1]) << 16 | Int(payload[2]) << 8 | Int(payload[3])
        guard headerLength <= limits.maxHeaderSize else {
            throw BundleError(.tooLarge, "header of \(headerLength) bytes exceeds the limit of \(limits.maxHeaderSize)")
        }
        guard 4 + headerLength <= payload.count else {
            throw BundleError(.truncated, "payload ends inside the header (\(headerLength) bytes announced)")
        }
        let header = try CanonicalJSON.decode(BundleHeader.self, from: payload[4..<4 + headerLength], what: "bundle header")
        try BundlePathRules.validateList(header.files.map(\.path))

        var contentSize = 0
        for entry in header.files {
            guard entry.size >= 0, SHA256Hex.isWellFormed(entry.sha256) else {
                throw BundleError(.corrupt, "file \(entry.path) has an invalid size or checksum in the header")
            }
            contentSize += entry.size
            guard contentSize <= limits.maxDecodedSize else {
                throw BundleError(.tooLarge, "files add up to more than \(limits.maxDecodedSize) bytes")
            }
        }
        let contentStart = 4 + headerLength
        let available = payload.count - contentStart
        if available < contentSize {
            throw BundleError(.truncated, "file contents are \(available) bytes, header announces \(contentSize)")
        }
        if available > contentSize {
            throw BundleError(.trailingBytes, "\(available - contentSize) bytes follow the last file")
        }
        let digest = BundleDigest.compute(header.files)
        guard digest == header.digest else {
            throw BundleError(.digestMismatch, "digest \(header.digest.prefix(12)) does not match the files (\(digest.prefix(12)))")
        }
        return (header, payload, contentStart)
    }
}
