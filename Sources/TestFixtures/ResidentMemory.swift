import Foundation

/// A process's resident set size, from /proc/<pid>/status (this process by default).
public enum ResidentMemory {
    public static func kilobytes(of process: Int32? = nil) -> Int? {
        field("VmRSS:", of: process)
    }

    /// The resident part that is anonymous memory (heap, stacks), not mapped files (RssAnon).
    public static func anonymousKilobytes(of process: Int32? = nil) -> Int? {
        field("RssAnon:", of: process)
    }

    /// The highest resident size the process has had (VmHWM).
    public static func peakKilobytes(of process: Int32? = nil) -> Int? {
        field("VmHWM:", of: process)
    }

    private static func field(_ name: String, of process: Int32?) -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(process.map(String.init) ?? "self")/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix(name) })
        else { return nil }
        return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "")
    }
}
