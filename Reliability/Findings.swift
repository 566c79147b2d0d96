import Foundation

/// What the watchers saw during the run: counts, and every violation with what and where.
final class Findings: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var counts: [String: Int] = [:]
    private var violationList: [String] = []

    func count(_ name: String, by amount: Int = 1) {
        lock.withLock { counts[name, default: 0] += amount }
    }

    func violation(_ text: String) {
        lock.withLock { violationList.append(text) }
    }

    subscript(_ name: String) -> Int { lock.withLock { counts[name] ?? 0 } }
    var violations: [String] { lock.withLock { violationList } }
}
