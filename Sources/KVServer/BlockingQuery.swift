import Hummingbird
import KV

/// Consul's blocking query: with `?index=N`, answer once the result's index passes N or the
/// wait (default 5 minutes, at most 10, plus up to wait/16 of jitter) runs out. An index beyond
/// anything this store has written comes from a store that was here before (this one restarted
/// empty, or was restored from an older snapshot): it is answered at once, with the lower index,
/// so the client resets (Consul's documented rule) instead of waiting a whole wait for news.
struct BlockingQuery {
    let store: ServerStore
    let limits: KVServerLimits

    /// Reads `index` and `wait`; a malformed one is a 400 response.
    func run(
        _ query: QueryParameters, topic: WatchTopic, answer: () async -> (response: Response, index: UInt64)
    ) async -> Response {
        guard case .success(let waitIndex) = query.unsigned("index") else {
            return ConsulResponse.text(.badRequest, "Invalid index: \(query["index"] ?? "")")
        }
        var wait = limits.defaultWait
        if let text = query["wait"] {
            // Go's ParseDuration, which Consul uses, wants a unit on anything but 0.
            guard text == "0" || !text.allSatisfy(\.isNumber), let parsed = ConsulWire.parseDuration(Substring(text)) else {
                return ConsulResponse.text(.badRequest, "Invalid wait time: \(text)")
            }
            wait = min(parsed, limits.maxWait)
        }
        let jitter = Duration.nanoseconds(Int64.random(in: 0...max(1, (wait / 16).nanosecondsValue)))
        let deadline = ContinuousClock.now + wait + jitter
        if let waitIndex, waitIndex > (await store.currentIndex) { return await durably(answer).response }
        while true {
            let seen = await store.changesAnnounced
            let (response, index) = await durably(answer)
            guard let waitIndex, waitIndex > 0, index <= waitIndex, ContinuousClock.now < deadline, !Task.isCancelled,
                await !store.isLeaving
            else {
                return response
            }
            await store.waitForChange(of: topic, after: seen, until: deadline)
        }
    }

    /// The answer, returned once everything the store held when it was taken is on disk: a
    /// read never shows a write that a crash could still lose. When the disk refused those
    /// writes they were taken back, and the answer is taken again without them.
    private func durably(_ answer: () async -> (response: Response, index: UInt64)) async -> (response: Response, index: UInt64) {
        while true {
            let result = await answer()
            if await store.durable(upTo: await store.currentIndex) { return result }
        }
    }
}

extension Duration {
    var nanosecondsValue: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
