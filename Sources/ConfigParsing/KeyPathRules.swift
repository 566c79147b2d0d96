/// What a mapping's source and prefix may be: relative, `/`-separated, no empty, `.` or `..`
/// components, no component with leading or trailing spaces (Consul refuses those keys).
package enum KeyPathRules {
    package static func normalizedSource(_ node: ConfigNode?) throws(ConfigError) -> String {
        guard let node else { return "" }
        var source = try node.string()
        while source.hasSuffix("/") { source.removeLast() }
        if source == "." || source.isEmpty { return "" }
        if let problem = problem(in: source) { throw node.error("source \(source.debugDescription) \(problem)") }
        return source
    }

    package static func checkedPrefix(_ node: ConfigNode) throws(ConfigError) -> String {
        let prefix = try node.nonEmptyString()
        if prefix.hasSuffix("/") { throw node.error("prefix \(prefix.debugDescription) must not end with /") }
        if let problem = problem(in: prefix) { throw node.error("prefix \(prefix.debugDescription) \(problem)") }
        if prefix.split(separator: "/").contains(".git2kv") {
            throw node.error("prefix \(prefix.debugDescription) must not contain .git2kv, which holds git2kv's own keys")
        }
        return prefix
    }

    /// Why `path` cannot be a relative key or tree path, or nil when it can.
    package static func problem(in path: String) -> String? {
        if path.hasPrefix("/") { return "must be relative (no leading /)" }
        if path.utf8.contains(0) { return "contains a NUL byte" }
        for component in path.split(separator: "/", omittingEmptySubsequences: false) {
            if component.isEmpty { return "has an empty component (//)" }
            if component == "." || component == ".." { return "must not contain \(component)" }
            if component.first == " " || component.last == " " { return "has a component with leading or trailing spaces" }
        }
        return nil
    }

    /// True when one prefix is the other or lies under it (`a/b` and `a/b/c`, not `a/b` and `a/bc`).
    package static func overlap(_ first: String, _ second: String) -> Bool {
        if first.isEmpty || second.isEmpty { return true }
        return first == second || first.hasPrefix(second + "/") || second.hasPrefix(first + "/")
    }
}
