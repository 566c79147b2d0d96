import KV

/// The KV data: entries by key, their keys in sorted order for prefix scans, and tombstones so
/// that the index of a prefix never goes backwards after a delete.
struct KVTable: Sendable {
    /// By key bytes: keys that Unicode calls equal (NFC and NFD) are distinct keys here.
    private var entries: [ByteKey: KVEntry] = [:]
    private var sortedKeys = SortedKeyList()
    /// While a log is replayed, new keys are not put in order one by one (each insert moves
    /// the keys after it); `finishReplay` sorts them once.
    private var orderDeferred = false
    private var tombstones: [ByteKey: UInt64] = [:]
    /// The highest index of a reaped tombstone: a floor for every prefix index from then on.
    private var reapedFloor: UInt64 = 0
    static let tombstoneLimit = 4096

    init() {}


    subscript(key: String) -> KVEntry? { entries[ByteKey(key)] }

    var count: Int { entries.count }

    /// Keys starting with `prefix`, in order.
    func keys(prefix: String) -> [String] {
        sortedKeys.keys(from: prefix) { $0.hasKeyPrefix(prefix) }
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
            if !existed, !orderDeferred { sortedKeys.insert(key) }
        } else if existed {
            entries[byteKey] = nil
            if !orderDeferred { sortedKeys.remove(key) }
            tombstones[byteKey] = index
            if tombstones.count > Self.tombstoneLimit { reapOldestTombstones() }
        }
    }

    /// What one key was before a change: enough to put it back exactly.
    struct SavedKey: Sendable {
        let key: String
        let entry: KVEntry?
        let tombstone: UInt64?
    }

    func saved(_ key: String) -> SavedKey {
        SavedKey(key: key, entry: entries[ByteKey(key)], tombstone: tombstones[ByteKey(key)])
    }

    /// Puts a key back as `saved` recorded it (undoing a change that could not be made durable).
    mutating func restore(_ saved: SavedKey) {
        let byteKey = ByteKey(saved.key)
        let exists = entries[byteKey] != nil
        entries[byteKey] = saved.entry
        tombstones[byteKey] = saved.tombstone
        if saved.entry != nil, !exists, !orderDeferred { sortedKeys.insert(saved.key) }
        if saved.entry == nil, exists, !orderDeferred { sortedKeys.remove(saved.key) }
    }

    mutating func startReplay() { orderDeferred = true }

    mutating func finishReplay() {
        guard orderDeferred else { return }
        orderDeferred = false
        sortedKeys = SortedKeyList(sorted: entries.keys.map(\.string).sorted { $0.sortsBefore($1) })
    }

    /// Up to `limit` entries in key order after `key` (from the first when nil): a snapshot
    /// walks the table in such pieces while writes go on between them.
    func entries(after key: String?, limit: Int) -> [KVEntry] {
        sortedKeys.keys(from: key ?? "", inclusive: key == nil, limit: limit).compactMap { entries[ByteKey($0)] }
    }

    var tombstoneList: [(key: String, index: UInt64)] {
        tombstones.map { ($0.key.string, $0.value) }.sorted { $0.key.sortsBefore($1.key) }
    }

    var reapedIndexFloor: UInt64 { reapedFloor }

    /// A table from a snapshot's pieces; entries arrive in key order (checked, sorted if not).
    init(orderedEntries: [KVEntry], tombstones: [(key: String, index: UInt64)], reapedFloor: UInt64) {
        entries.reserveCapacity(orderedEntries.count)
        var inOrder = true
        var previous: String?
        for entry in orderedEntries {
            entries[ByteKey(entry.key)] = entry
            if let previous, !previous.sortsBefore(entry.key) { inOrder = false }
            previous = entry.key
        }
        sortedKeys = SortedKeyList(
            sorted: inOrder && entries.count == orderedEntries.count ? orderedEntries.map(\.key) : entries.keys.map(\.string).sorted { $0.sortsBefore($1) })
        for (key, index) in tombstones { self.tombstones[ByteKey(key)] = index }
        self.reapedFloor = reapedFloor
    }

    private mutating func reapOldestTombstones() {
        // Sorted by index only; ties between keys do not matter, every one of them goes or stays.
        let oldest = tombstones.sorted { $0.value < $1.value }.prefix(Self.tombstoneLimit / 2)
        for (key, index) in oldest {
            tombstones[key] = nil
            reapedFloor = max(reapedFloor, index)
        }
    }
}

/// Reads the JSON snapshots of earlier versions (`snapshot.json`); new ones are `SnapshotFormat`.
extension KVTable: Decodable {
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
            orderedEntries: try container.decode([KVEntry].self, forKey: .entries), tombstones: tombstones.map { ($0.key, $0.value) },
            reapedFloor: try container.decode(UInt64.self, forKey: .reapedFloor))
        for tombstone in try container.decodeIfPresent([Tombstone].self, forKey: .tombstoneList) ?? [] {
            self.tombstones[ByteKey(tombstone.key)] = tombstone.index
        }
    }
}
