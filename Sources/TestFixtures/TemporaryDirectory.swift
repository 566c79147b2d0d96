import Foundation

/// A fresh directory under the system temp dir, removed by `remove()`.
public struct TemporaryDirectory: Sendable {
    public let path: String

    /// Under `base`, or the system temp dir when nil.
    public init(prefix: String = "git2kv", in base: String? = nil) throws {
        let base = base ?? FileManager.default.temporaryDirectory.path
        let path = "\(base)/\(prefix)-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        self.path = path
    }

    public func appending(_ component: String) -> String { "\(path)/\(component)" }

    public func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }
}
