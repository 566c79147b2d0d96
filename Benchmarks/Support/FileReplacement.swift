import Foundation

/// Deliveries renamed into place, seen from outside: a renderer's rename gives the destination
/// a new inode, so polling inodes tells when every renderer has delivered without reading files.
public struct FileReplacement: Sendable {
    public let paths: [String]
    private let inodes: [UInt64]

    /// Notes the paths' inodes now (before the change is made).
    public init(_ paths: [String]) {
        self.paths = paths
        inodes = paths.map(Self.inode)
    }

    /// Returns once every path has a new inode (polled every 2 ms); throws after `limit`,
    /// saying how many did not.
    public func waitUntilAllReplaced(within limit: Duration, what: String) async throws {
        let start = ContinuousClock.now
        var pending = Array(paths.indices)
        while !pending.isEmpty {
            pending.removeAll { Self.inode(paths[$0]) != inodes[$0] }
            guard start.duration(to: .now) < limit else { throw BenchmarkFailure("\(pending.count) of \(paths.count) \(what)") }
            if !pending.isEmpty { try await Task.sleep(for: .milliseconds(2)) }
        }
    }

    public static func inode(_ path: String) -> UInt64 {
        var status = stat()
        return stat(path, &status) == 0 ? UInt64(status.st_ino) : 0
    }
}
