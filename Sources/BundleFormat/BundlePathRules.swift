/// The paths a bundle may carry: relative, `/`-separated, no empty, `.` or `..` components,
/// no NUL, no leading or trailing spaces in a component (Consul refuses such keys).
enum BundlePathRules {
    static func validate(_ path: String) throws(BundleError) {
        guard !path.isEmpty else { throw BundleError(.invalidPath, "a file has an empty path") }
        guard !path.utf8.contains(0) else { throw BundleError(.invalidPath, "path \(path.debugDescription) contains a NUL byte") }
        guard !path.hasPrefix("/") else { throw BundleError(.invalidPath, "path \(path) is absolute") }
        for component in path.split(separator: "/", omittingEmptySubsequences: false) {
            if component.isEmpty { throw BundleError(.invalidPath, "path \(path) has an empty component") }
            if component == "." || component == ".." {
                throw BundleError(.invalidPath, "path \(path) contains \(component)")
            }
            if component.first == " " || component.last == " " {
                throw BundleError(.invalidPath, "path \(path.debugDescription) has a component with leading or trailing spaces")
            }
        }
    }

    /// Sorted, unique, valid.
    static func validateList(_ paths: [String]) throws(BundleError) {
        var previous: String?
        for path in paths {
            try validate(path)
            if let previous {
                if previous == path { throw BundleError(.invalidFileList, "path \(path) appears twice") }
                if !previous.utf8.lexicographicallyPrecedes(path.utf8) {
                    throw BundleError(.invalidFileList, "files are not sorted: \(previous) before \(path)")
                }
            }
            previous = path
        }
    }
}
