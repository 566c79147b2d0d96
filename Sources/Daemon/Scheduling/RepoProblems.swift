/// What keeps a whole repo (not one mapping) from syncing: a fetch that fails, a mirror that
/// cannot be opened, a branch that cannot be resolved (deleted upstream, or never fetched).
/// Each is reported once when it appears and once when it clears, not on every attempt.
struct RepoProblems: Sendable, Equatable {
    /// What went wrong, by what it concerns (`fetch`, `mirror`, `branch main`).
    private(set) var current: [String: String] = [:]

    struct Changes: Equatable {
        var appeared: [(what: String, message: String)] = []
        var changed: [(what: String, message: String)] = []
        var cleared: [String] = []

        static func == (lhs: Changes, rhs: Changes) -> Bool {
            lhs.appeared.map(\.what) == rhs.appeared.map(\.what) && lhs.appeared.map(\.message) == rhs.appeared.map(\.message)
                && lhs.changed.map(\.what) == rhs.changed.map(\.what) && lhs.cleared == rhs.cleared
        }
    }

    /// Replaces the problems of the kinds a pass looked at (`checked`) with what it found.
    mutating func update(checked: Set<String>, found: [String: String]) -> Changes {
        var changes = Changes()
        for what in found.keys.sorted() {
            let message = found[what]!
            switch current[what] {
            case nil: changes.appeared.append((what, message))
            case let old? where old != message: changes.changed.append((what, message))
            default: break
            }
            current[what] = message
        }
        for what in current.keys.sorted() where checked.contains(what) && found[what] == nil {
            current[what] = nil
            changes.cleared.append(what)
        }
        return changes
    }

    /// Problems that make the repo not ready: anything but a failing fetch, whose staleness the
    /// poll age already measures (a mirror fetched minutes ago still serves).
    var blocksReadiness: Bool { current.keys.contains { $0 != "fetch" } }

    var descriptions: [String] { current.keys.sorted().map { "\($0): \(current[$0]!)" } }
}
