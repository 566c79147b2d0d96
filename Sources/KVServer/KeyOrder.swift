/// Keys compare and match as bytes, as Consul does, so a prefix's keys are always contiguous.
extension String {
    func hasKeyPrefix(_ prefix: String) -> Bool {
        utf8.starts(with: prefix.utf8)
    }

    func sortsBefore(_ other: String) -> Bool {
        utf8.lexicographicallyPrecedes(other.utf8)
    }
}
