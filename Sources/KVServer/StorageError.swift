import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The data directory cannot be used: says which file and why.
public struct StorageError: Error, Sendable, CustomStringConvertible {
    public let message: String
    /// The log's state is unknown: the server must stop rather than acknowledge anything more.
    let fatal: Bool

    init(_ message: String, fatal: Bool = false) {
        self.message = message
        self.fatal = fatal
    }

    /// `errno` is read here, right after the call that failed.
    static func posix(_ what: String) -> StorageError {
        StorageError(code: errno, what)
    }

    /// For calls that return their error number instead of setting `errno` (posix_fallocate).
    init(code: Int32, _ what: String) {
        self.init("\(what): \(String(cString: strerror(code)))")
    }

    public var description: String { message }
}
