/// A unified-style line diff for `--dry-run` (`-` old, `+` new, two lines of context).
enum LineDiff {
    /// Beyond this many lines finding the difference can take long; a summary is printed instead.
    private static let maximumLines = 4000

    static func render(old: String, new: String, oldName: String, newName: String) -> String {
        let a = old.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let b = new.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard a.count <= maximumLines, b.count <= maximumLines else {
            return "--- \(oldName)\n+++ \(newName)\n(content differs: \(a.count) lines become \(b.count) lines)\n"
        }
        let edits = script(a, b)
        var lines = ["--- \(oldName)", "+++ \(newName)"]
        let changed = edits.indices.filter { edits[$0].mark != " " }
        var shown = Set<Int>()
        for index in changed { for near in max(0, index - 2)...min(edits.count - 1, index + 2) { shown.insert(near) } }
        var previous: Int?
        for index in shown.sorted() {
            if let previous, index > previous + 1 { lines.append("@@") }
            lines.append(String(edits[index].mark) + edits[index].line)
            previous = index
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Every line of both sides in order, marked kept, removed or added (the standard library's
    /// Myers difference says which).
    private static func script(_ a: [String], _ b: [String]) -> [(mark: Character, line: String)] {
        var removed = Set<Int>()
        var inserted = Set<Int>()
        for change in b.difference(from: a) {
            switch change {
            case .remove(let offset, _, _): removed.insert(offset)
            case .insert(let offset, _, _): inserted.insert(offset)
            }
        }
        var result: [(Character, String)] = []
        var i = 0
        var j = 0
        while i < a.count || j < b.count {
            if i < a.count, removed.contains(i) {
                result.append(("-", a[i])); i += 1
            } else if j < b.count, inserted.contains(j) {
                result.append(("+", b[j])); j += 1
            } else {
                result.append((" ", a[i])); i += 1; j += 1
            }
        }
        return result
    }
}
