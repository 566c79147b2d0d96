/// Delivery ids of webhooks already handled, so a redelivered or replayed one does nothing.
/// Bounded: the oldest are forgotten first.
struct RecentDeliveries: Sendable {
    let capacity: Int
    private var order: [String] = []
    private var seen: Set<String> = []

    init(capacity: Int = 10_000) { self.capacity = capacity }

    func contains(_ id: String) -> Bool { seen.contains(id) }

    mutating func insert(_ id: String) {
        guard seen.insert(id).inserted else { return }
        order.append(id)
        if order.count > capacity {
            let dropped = order.count - capacity
            for old in order.prefix(dropped) { seen.remove(old) }
            order.removeFirst(dropped)
        }
    }
}
