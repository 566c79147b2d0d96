import Foundation

/// One HTTP exchange made with the curl CLI (tests talk to server binaries out of process, so a
/// synchronous call never holds a thread an in-process server needs).
public struct CurlAnswer: Sendable {
    public var status: Int
    /// The response headers, lower-cased.
    public var headers: String
    public var body: String

    /// The body as JSON (objects, lists, numbers), nil when it is not JSON.
    public var json: Any? { try? JSONSerialization.jsonObject(with: Data(body.utf8)) }
    public var object: [String: Any]? { json as? [String: Any] }
    public var list: [[String: Any]]? { json as? [[String: Any]] }

    /// The value of one response header, nil when absent.
    public func header(_ name: String) -> String? {
        headers.split(separator: "\r\n").first { $0.hasPrefix(name.lowercased() + ":") }
            .map { String($0.dropFirst(name.count + 1)).trimmingCharacters(in: .whitespaces) }
    }
}

public enum Curl {
    /// Runs `curl -s --path-as-is` with `arguments` (method, headers, body, URL).
    public static func run(_ arguments: [String]) throws -> CurlAnswer {
        let result = try ProcessRunner.run("/usr/bin/curl", ["-s", "--path-as-is", "-D", "/dev/stderr", "-w", "\n%{http_code}"] + arguments)
        let lines = result.output.split(separator: "\n", omittingEmptySubsequences: false)
        return CurlAnswer(status: Int(lines.last ?? "") ?? 0, headers: result.errors.lowercased(), body: lines.dropLast().joined(separator: "\n"))
    }
}
