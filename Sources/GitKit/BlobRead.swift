/// A blob read under a size limit: its content, or only its size when that is over the limit.
public enum BlobRead: Sendable, Equatable {
    case content([UInt8])
    case oversized(size: Int)
}
