import KV

/// The KV data: entries by key, their keys in sorted order for prefix scans, and tombstones so
/// that the index of a prefix never goes backwards after a delete.
struct KVTable: Sendable {
    /// By key bytes: keys that Unicode calls equal (NFC and NFD) are distinct keys here.
    private var entries: [ByteKey: KVEntry] = [:]
    private var sortedKeys: [String] = []
    private var tombstones: [ByteKey: UInt64] = [:]
    /// The highest index of a reaped tombstone: a floor for every prefix index from then on.
    private var reapedFloor: UInt64 = 0
    static let tombstoneLimit = 4096

    init() {}

    init(entries: [KVEntry], tombstones: [String: UInt64], reapedFloor: UInt64) {
        for entry in entries { self.entries[ByteKey(entry.key)] = entry }
        sortedKeys = self.entries.keys.map(\.string).sorted { $0.sortsBefore($1) }
        for (key, index) in tombstones { self.tombstones[ByteKey(key)] = index }
        self.reapedFloor = reapedFloor
    }

    subscript(key: String) -> KVEntry? { entries[ByteKey(key)] }

    var count: Int { entries.count }

    /// Keys starting with `prefix`, in order.
    func keys(prefix: String) -> ArraySlice<String> {
        let start = firstPosition(notBelow: prefix)
        var end = start
        while end < sortedKeys.count, sortedKeys[end].hasKeyPrefix(prefix) { end += 1 }
        return sortedKeys[start..<end]
    }

    func entries(prefix: String) -> [KVEntry] {
        keys(prefix: prefix).compactMap { entries[ByteKey($0)] }
    }

    /// The index a read of `key` reports: its modify index, or when it was deleted.
    func index(of key: String, current: UInt64) -> UInt64 {
        if let entry = entries[ByteKey(key)] { return entry.modifyIndex }
        return max(tombstones[ByteKey(key)] ?? current, reapedFloor)
    }

    /// The index a prefix read reports: the highest modify or delete index under it.
    func index(ofPrefix prefix: String, current: UInt64) -> UInt64 {
        let live = keys(prefix: prefix).compactMap { entries[ByteKey($0)]?.modifyIndex }.max() ?? 0
        let deleted = tombstones.lazy.filter { $0.key.string.hasKeyPrefix(prefix) }.map(\.value).max() ?? 0
        let highest = max(live, deleted, reapedFloor)
        return highest == 0 ? current : highest
    }

    /// Sets or removes one key; a removal leaves a tombstone at `index`.
    mutating func set(_ key: String, to entry: KVEntry?, at index: UInt64) {
        let byteKey = ByteKey(key)
        let existed = entries[byteKey] != nil
        if let entry {
            entries[byteKey] = entry
            tombstones[byteKey] = nil
            if !existed { sortedKeys.insert(key, at: firstPosition(notBelow: key)) }
        } else if existed {
            entries[byteKey] = nil
            sortedKeys.remove(at: firstPosition(notBelow: key))
            tombstones[byteKey] = index
            if tombstones.count > Self.tombstoneLimit { reapOldestTombstones() }
        }
    }

    private mutating func reapOldestTombstones() {
        // Sorted by index only; ties between keys do not matter, every one of them goes or stays.
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
    private enum CodingKeys: String, CodingKey { case entries, tombstones, tombstoneList, reapedFloor }

    private struct Tombstone: Codable {
        var key: String
        var index: UInt64
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        var tombstones: [String: UInt64] = [:]
        // Snapshots before byte keys kept tombstones as an object.
        if let legacy = try container.decodeIfPresent([String: UInt64].self, forKey: .tombstones) { tombstones = legacy }
        self.init(
            entries: try container.decode([KVEntry].self, forKey: .entries), tombstones: tombstones,
            reapedFloor: try container.decode(UInt64.self, forKey: .reapedFloor))
        for tombstone in try container.decodeIfPresent([Tombstone].self, forKey: .tombstoneList) ?? [] {
            self.tombstones[ByteKey(tombstone.key)] = tombstone.index
        }
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(sortedKeys.compactMap { entries[ByteKey($0)] }, forKey: .entries)
        // Twins cannot both be dictionary keys of the JSON object; a list keeps each as its bytes.
        try container.encode(
            tombstones.map { Tombstone(key: $0.key.string, index: $0.value) }.sorted { $0.key.sortsBefore($1.key) }, forKey: .tombstoneList)
        try container.encode(reapedFloor, forKey: .reapedFloor)
    }
}
