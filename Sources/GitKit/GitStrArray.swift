import CLibGit2
import Foundation

extension Array where Element == String {
    /// Calls `body` with these strings as a `git_strarray`, valid only during the call.
    func withStrArray<Result>(_ body: (UnsafePointer<git_strarray>) -> Result) -> Result {
        var copies = map { strdup($0) }
        defer { copies.forEach { free($0) } }
        return copies.withUnsafeMutableBufferPointer { buffer in
            var array = git_strarray(strings: buffer.baseAddress, count: buffer.count)
            return body(&array)
        }
    }
}
