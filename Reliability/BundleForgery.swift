import BundleFormat
import CompressNIO
import Foundation
import NIOCore

/// Builds bundle values the real encoder never would: a header that lies about its files,
/// contents that do not match, other versions. Independent of `BundleEncoder` on purpose.
enum BundleForgery {
    static let source = BundleSource(repo: "config", branch: "main", path: "apps/web")
    static let commit = BundleCommit(id: String(repeating: "c", count: 40), author: "Corpus", email: "corpus@example.com", time: 1_700_000_000, summary: "corpus")

    static func header(_ files: [BundleFile]) -> BundleHeader {
        let entries = files.map { BundleFileEntry(path: $0.path, mode: $0.mode, sha256: $0.sha256, size: $0.content.count) }
        return BundleHeader(source: source, commit: commit, files: entries, digest: BundleDigest.compute(entries))
    }

    /// "G2KB", version, compression, then zlib of (header length, header JSON, contents).
    static func frame(header: BundleHeader, contents: [[UInt8]], version: UInt8 = 1, compression: UInt8 = 1) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try frame(headerBytes: [UInt8](encoder.encode(header)), contents: contents, version: version, compression: compression)
    }

    static func frame(headerBytes: [UInt8], contents: [[UInt8]], version: UInt8 = 1, compression: UInt8 = 1) throws -> [UInt8] {
        var payload = ByteBuffer()
        payload.writeInteger(UInt32(headerBytes.count), endianness: .big)
        payload.writeBytes(headerBytes)
        for content in contents { payload.writeBytes(content) }
        let compressed = try payload.compress(with: .zlib(configuration: .init(compressionLevel: .bestCompression)))
        return Array("G2KB".utf8) + [version, compression] + Array(compressed.readableBytesView)
    }
}
