/// Keys compare and match as bytes, as Consul does, so a prefix's keys are always contiguous.
extension String {
    func hasKeyPrefix(_ prefix: String) -> Bool {
        utf8.starts(with: prefix.utf8)
    }

    func sortsBefore(_ other: String) -> Bool {
        utf8.lexicographicallyPrecedes(other.utf8)
    }
}

/// A key as a dictionary or set member, equal and hashed by its UTF-8 bytes. Swift's `String`
/// equality is Unicode canonical equivalence, under which `café` composed and decomposed are one
/// key; Consul stores them as two, and so must we (or a token limited to one prefix could make a
/// twin of another prefix's key shadow or replace it).
struct ByteKey: Hashable, Sendable {
    let string: String

    init(_ string: String) {
        self.string = string
    }

    static func == (lhs: ByteKey, rhs: ByteKey) -> Bool {
        lhs.string.utf8.elementsEqual(rhs.string.utf8)
    }

    func hash(into hasher: inout Hasher) {
        hasher.combine(string.utf8.count)
        for byte in string.utf8 { hasher.combine(byte) }
    }
}

extension String {
    /// Byte equality, as Consul compares keys and ACL rule names.
    func isSameKey(as other: String) -> Bool {
        utf8.elementsEqual(other.utf8)
    }
}
