import Hummingbird

/// Consul's key validation: no `..` path traversal, no leading or trailing white space,
/// and a key name for writes.
enum KeyRules {
    static func problem(with key: String, method: HTTPRequest.Method) -> String? {
        if key.split(separator: "/", omittingEmptySubsequences: false).contains("..") {
            return "Invalid key: \(key.debugDescription) contains a .. path segment"
        }
        if let first = key.first, first.isWhitespace { return "Invalid key: \(key.debugDescription) starts with white space" }
        if let last = key.last, last.isWhitespace { return "Invalid key: \(key.debugDescription) ends with white space" }
        if key.isEmpty, method == .put { return "Missing key name" }
        return nil
    }
}
