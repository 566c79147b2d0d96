import Foundation

/// A file's bytes, or nil when it cannot be read (not yet rendered, being replaced).
func fileBytes(_ path: String) -> [UInt8]? {
    FileManager.default.contents(atPath: path).map { [UInt8]($0) }
}
