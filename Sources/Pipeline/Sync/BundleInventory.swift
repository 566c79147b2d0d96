/// What the state records about the bundles under a prefix: how many are live, the chunks of
/// the chunked ones, and a summary of every key that should exist (state, bundles, chunks).
/// An incremental sync updates it from the bundles it touched, without reading the others.
struct BundleInventory: Sendable, Equatable {
    var count: Int
    var chunked: [String: [String]]
    var keys: KeySummary

    /// The files layout keeps no bundles (its state summarizes the files' keys instead).
    static let none = BundleInventory(count: 0, chunked: [:], keys: KeySummary([String]()))

    private init(count: Int, chunked: [String: [String]], keys: KeySummary) {
        self.count = count
        self.chunked = chunked
        self.keys = keys
    }

    /// From every live bundle's record (a full compare).
    init(records: [String: BundleRecord], target: MappingTarget) {
        count = records.count
        chunked = records.compactMapValues(\.chunks)
        let chunkKeys = Set(chunked.values.joined()).map(target.chunkKey)
        keys = KeySummary([target.stateKey] + records.keys.map(target.bundleKey) + chunkKeys)
    }

    init(state: SyncState, target: MappingTarget) {
        count = state.bundleCount
        chunked = state.chunked
        keys = state.keys ?? KeySummary([target.stateKey])
    }

    var chunks: Set<String> { Set(chunked.values.joined()) }

    /// Records that a bundle key now exists with these chunks (nil: stored whole).
    mutating func stored(_ name: String, chunks: [String]?, existedBefore: Bool, target: MappingTarget) {
        if !existedBefore {
            count += 1
            keys.insert(target.bundleKey(name))
        }
        setChunks(name, chunks, target: target)
    }

    /// Records that a bundle key was deleted.
    mutating func removed(_ name: String, target: MappingTarget) {
        count -= 1
        keys.remove(target.bundleKey(name))
        setChunks(name, nil, target: target)
    }

    private mutating func setChunks(_ name: String, _ new: [String]?, target: MappingTarget) {
        let before = chunks
        chunked[name] = new
        let after = chunks
        for chunk in after.subtracting(before) { keys.insert(target.chunkKey(chunk)) }
        for chunk in before.subtracting(after) { keys.remove(target.chunkKey(chunk)) }
    }
}
