/// Runs `body` on every item with at most `width` running at once and returns the results in
/// the items' order (sync's bundle reads and preparation, the hosts generator's service reads,
/// a renderer's shard reads). Failures travel in the results (a `Result`), so one does not cancel the rest.
package func concurrentMap<Item: Sendable, Value: Sendable>(
    _ items: [Item], width: Int, _ body: @escaping @Sendable (Item) async -> Value
) async -> [Value] {
    await withTaskGroup(of: (Int, Value).self) { group in
        var results = [Value?](repeating: nil, count: items.count)
        var next = 0
        func startNext() {
            guard next < items.count else { return }
            let offset = next
            let item = items[offset]
            group.addTask { (offset, await body(item)) }
            next += 1
        }
        for _ in 0..<max(1, width) { startNext() }
        while let (offset, value) = await group.next() {
            results[offset] = value
            startNext()
        }
        return results.map { $0! }
    }
}
