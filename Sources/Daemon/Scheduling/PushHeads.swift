/// What a repo worker knows of each branch's heads, to tell a push that needs a fetch from one
/// that is already covered: its head is live, a sync already asked for it, or it is a replay of
/// an older push (its head was live before and its `before` is not the live head, so it is not
/// a force-push back to that commit).
struct PushHeads: Sendable {
    static let remembered = 64

    private var live: [String: String] = [:]
    private var earlier: [String: [String]] = [:]
    private var pending: [String: (head: String, at: Duration)] = [:]

    func liveHead(of branch: String) -> String? { live[branch] }

    /// Whether a push of `branch` to `head` (from `previous`) needs nothing new.
    func covers(branch: String, head: String, previous: String?) -> Bool {
        if live[branch] == head || pending[branch]?.head == head { return true }
        guard earlier[branch, default: []].contains(head) else { return false }
        return previous == nil ? false : previous != live[branch]
    }

    /// A sync was asked for because of a push of `head`, at `now`.
    mutating func requested(branch: String, head: String, at now: Duration) {
        pending[branch] = (head, now)
    }

    /// A pass of `branch` whose fetch started at `fetchedAt` left `head` live.
    mutating func synced(branch: String, head: String, fetchedAt: Duration?) {
        if let previous = live[branch], previous != head {
            var list = earlier[branch, default: []]
            list.removeAll { $0 == previous || $0 == head }
            list.append(previous)
            if list.count > Self.remembered { list.removeFirst(list.count - Self.remembered) }
            earlier[branch] = list
        }
        live[branch] = head
        if let asked = pending[branch], asked.head == head || (fetchedAt.map { $0 >= asked.at } ?? false) {
            pending[branch] = nil
        }
    }
}
