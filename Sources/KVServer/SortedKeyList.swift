/// Keys in byte order, kept as a list of small sorted chunks: inserting or removing one key
/// moves at most a chunk's worth of keys, where one sorted array of a million keys moved
/// megabytes on every new key. Prefix scans walk chunks in order.
struct SortedKeyList: Sendable {
    static let chunkLimit = 512
    private var chunks: [[String]] = []
    private(set) var count = 0

    init() {}

    /// From keys already in byte order.
    init(sorted keys: [String]) {
        count = keys.count
        var start = 0
        while start < keys.count {
            let end = min(keys.count, start + Self.chunkLimit / 2)
            chunks.append(Array(keys[start..<end]))
            start = end
        }
    }

    mutating func insert(_ key: String) {
        guard !chunks.isEmpty else {
            chunks = [[key]]
            count = 1
            return
        }
        let chunk = chunkIndex(for: key)
        let position = Self.firstPosition(in: chunks[chunk], notBelow: key)
        chunks[chunk].insert(key, at: position)
        count += 1
        if chunks[chunk].count > Self.chunkLimit {
            let upper = Array(chunks[chunk][(Self.chunkLimit / 2)...])
            chunks[chunk].removeSubrange((Self.chunkLimit / 2)...)
            chunks.insert(upper, at: chunk + 1)
        }
    }

    /// Removes `key` when present (compared as bytes).
    mutating func remove(_ key: String) {
        guard !chunks.isEmpty else { return }
        let chunk = chunkIndex(for: key)
        let position = Self.firstPosition(in: chunks[chunk], notBelow: key)
        guard position < chunks[chunk].count, chunks[chunk][position].isSameKey(as: key) else { return }
        chunks[chunk].remove(at: position)
        count -= 1
        if chunks[chunk].isEmpty { chunks.remove(at: chunk) }
    }

    /// Up to `limit` keys in order, starting at the first key not below `start` (or after it,
    /// when `inclusive` is false), while `accept` holds.
    func keys(from start: String, inclusive: Bool = true, limit: Int = .max, while accept: (String) -> Bool = { _ in true }) -> [String] {
        var result: [String] = []
        guard !chunks.isEmpty, limit > 0 else { return result }
        var chunk = chunkIndex(for: start)
        var position = Self.firstPosition(in: chunks[chunk], notBelow: start)
        if !inclusive, position < chunks[chunk].count, chunks[chunk][position].isSameKey(as: start) { position += 1 }
        while chunk < chunks.count {
            while position < chunks[chunk].count {
                let key = chunks[chunk][position]
                guard accept(key), result.count < limit else { return result }
                result.append(key)
                position += 1
            }
            chunk += 1
            position = 0
        }
        return result
    }

    /// The chunk that holds `key` or would: the last one whose first key is not above it.
    private func chunkIndex(for key: String) -> Int {
        var low = 0
        var high = chunks.count
        while low < high {
            let middle = (low + high) / 2
            if key.sortsBefore(chunks[middle][0]) { high = middle } else { low = middle + 1 }
        }
        return max(0, low - 1)
    }

    private static func firstPosition(in keys: [String], notBelow key: String) -> Int {
        var low = 0
        var high = keys.count
        while low < high {
            let middle = (low + high) / 2
            if keys[middle].sortsBefore(key) { low = middle + 1 } else { high = middle }
        }
        return low
    }
}
