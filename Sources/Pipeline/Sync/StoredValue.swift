import BundleFormat
import KV

/// What a bundle key in KV holds, as far as comparisons need: its digest, commit and chunks.
struct StoredValue: Sendable {
    let digest: String
    let commit: String
    let size: Int
    let chunks: [String]?

    /// nil when the value is not a readable bundle or manifest (for example edited by hand).
    init?(_ value: [UInt8]) {
        switch BundleWire.kind(of: value) {
        case .bundle:
            guard let header = try? BundleDecoder.decodeHeader(value) else { return nil }
            digest = header.digest
            commit = header.commit.id
            size = value.count
            chunks = nil
        case .manifest:
            guard let manifest = try? ChunkManifest.decode(value) else { return nil }
            digest = manifest.digest
            commit = manifest.commit
            size = manifest.size
            chunks = manifest.chunks.map(\.sha256)
        default:
            return nil
        }
    }

    var record: BundleRecord { BundleRecord(digest: digest, commit: commit, size: size, chunks: chunks) }
}
