import ConfigParsing
/// A path glob for include/exclude: `*` and `?` stay within one path component, `**` spans any
/// number of them. A pattern without `/` matches a file's name in any directory.
public struct GlobPattern: Sendable, Equatable {
    public let pattern: String
    private let components: [Substring]
    private let matchesNameOnly: Bool

    public init(_ pattern: String) {
        self.pattern = pattern
        matchesNameOnly = !pattern.contains("/")
        components = pattern.split(separator: "/", omittingEmptySubsequences: true)
    }

    public func matches(_ path: String) -> Bool {
        let parts = path.split(separator: "/", omittingEmptySubsequences: true)
        if matchesNameOnly, let name = parts.last { return Self.matchComponent(Array(components.first ?? ""), Array(name)) }
        return Self.matchPath(components[...], parts[...])
    }

    private static func matchPath(_ pattern: ArraySlice<Substring>, _ path: ArraySlice<Substring>) -> Bool {
        guard let first = pattern.first else { return path.isEmpty }
        if first == "**" {
            let rest = pattern.dropFirst()
            var remaining = path
            while true {
                if matchPath(rest, remaining) { return true }
                guard !remaining.isEmpty else { return false }
                remaining = remaining.dropFirst()
            }
        }
        guard let component = path.first, matchComponent(Array(first), Array(component)) else { return false }
        return matchPath(pattern.dropFirst(), path.dropFirst())
    }

    private static func matchComponent(_ pattern: [Character], _ name: [Character]) -> Bool {
        var patternIndex = 0
        var nameIndex = 0
        var starPattern = -1
        var starName = 0
        while nameIndex < name.count {
            if patternIndex < pattern.count, pattern[patternIndex] == "?" || pattern[patternIndex] == name[nameIndex] {
                patternIndex += 1
                nameIndex += 1
            } else if patternIndex < pattern.count, pattern[patternIndex] == "*" {
                starPattern = patternIndex
                starName = nameIndex
                patternIndex += 1
            } else if starPattern >= 0 {
                patternIndex = starPattern + 1
                starName += 1
                nameIndex = starName
            } else {
                return false
            }
        }
        while patternIndex < pattern.count, pattern[patternIndex] == "*" { patternIndex += 1 }
        return patternIndex == pattern.count
    }

    static func checked(_ node: ConfigNode) throws(ConfigError) -> [String] {
        let patterns = try node.strings(allowSingle: true)
        for pattern in patterns where pattern.hasPrefix("/") {
            throw node.error("glob \(pattern.debugDescription) must be relative to the mapping's source")
        }
        return patterns
    }
}

/// Which files of a mapping's source are synced.
public struct PathFilter: Sendable {
    let include: [GlobPattern]
    let exclude: [GlobPattern]

    public init(include: [String], exclude: [String]) {
        self.include = include.map(GlobPattern.init)
        self.exclude = exclude.map(GlobPattern.init)
    }

    public func admits(_ path: String) -> Bool {
        if !include.isEmpty, !include.contains(where: { $0.matches(path) }) { return false }
        return !exclude.contains { $0.matches(path) }
    }
}
