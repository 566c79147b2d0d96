import KV

/// The KV data: entries by key, their keys in sorted order for prefix scans, and tombstones so
/// that the index of a prefix never goes backwards after a delete.
struct KVTable: Sendable {
    private(set) var entries: [String: KVEntry] = [:]
    private var sortedKeys: [String] = []
    private var tombstones: [String: UInt64] = [:]
    /// The highest index of a reaped tombstone: a floor for every prefix index from then on.
    private var reapedFloor: UInt64 = 0
    static let tombstoneLimit = 4096

    init() {}

    init(entries: [KVEntry], tombstones: [String: UInt64], reapedFloor: UInt64) {
        for entry in entries { self.entries[entry.key] = entry }
        sortedKeys = self.entries.keys.sorted { $0.sortsBefore($1) }
        self.tombstones = tombstones
        self.reapedFloor = reapedFloor
    }

    subscript(key: String) -> KVEntry? { entries[key] }

    var count: Int { entries.count }

    /// Keys starting with `prefix`, in order.
    func keys(prefix: String) -> ArraySlice<String> {
        let start = firstPosition(notBelow: prefix)
        var end = start
        while end < sortedKeys.count, sortedKeys[end].hasKeyPrefix(prefix) { end += 1 }
        return sortedKeys[start..<end]
    }

    func entries(prefix: String) -> [KVEntry] {
        keys(prefix: prefix).compactMap { entries[$0] }
    }

    /// The index a read of `key` reports: its modify index, or when it was deleted.
    func index(of key: String, current: UInt64) -> UInt64 {
        if let entry = entries[key] { return entry.modifyIndex }
        return max(tombstones[key] ?? current, reapedFloor)
    }

    /// The index a prefix read reports: the highest modify or delete index under it.
    func index(ofPrefix prefix: String, current: UInt64) -> UInt64 {
        let live = keys(prefix: prefix).compactMap { entries[$0]?.modifyIndex }.max() ?? 0
        let deleted = tombstones.lazy.filter { $0.key.hasKeyPrefix(prefix) }.map(\.value).max() ?? 0
        let highest = max(live, deleted, reapedFloor)
        return highest == 0 ? current : highest
    }

    /// Sets or removes one key; a removal leaves a tombstone at `index`.
    mutating func set(_ key: String, to entry: KVEntry?, at index: UInt64) {
        let existed = entries[key] != nil
        if let entry {
            entries[key] = entry
            tombstones[key] = nil
            if !existed { sortedKeys.insert(key, at: firstPosition(notBelow: key)) }
        } else if existed {
            entries[key] = nil
            sortedKeys.remove(at: firstPosition(notBelow: key))
            tombstones[key] = index
            if tombstones.count > Self.tombstoneLimit { reapOldestTombstones() }
        }
    }

    private mutating func reapOldestTombstones() {
        let oldest = tombstones.sorted { $0.value < $1.value }.prefix(Self.tombstoneLimit / 2)
        for (key, index) in oldest {
            tombstones[key] = nil
            reapedFloor = max(reapedFloor, index)
        }
    }

    private func firstPosition(notBelow key: String) -> Int {
        var low = 0
        var high = sortedKeys.count
        while low < high {
            let middle = (low + high) / 2
            if sortedKeys[middle].sortsBefore(key) { low = middle + 1 } else { high = middle }
        }
        return low
    }
}

extension KVTable: Codable {
    private enum CodingKeys: String, CodingKey { case entries, tombstones, reapedFloor }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            entries: try container.decode([KVEntry].self, forKey: .entries),
            tombstones: try container.decode([String: UInt64].self, forKey: .tombstones),
            reapedFloor: try container.decode(UInt64.self, forKey: .reapedFloor))
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(sortedKeys.compactMap { entries[$0] }, forKey: .entries)
        try container.encode(tombstones, forKey: .tombstones)
        try container.encode(reapedFloor, forKey: .reapedFloor)
    }
}
