import Foundation

/// What a template may know about the node it runs on: its hostname and the environment
/// variables the configuration allows (nothing else of the environment, which may hold secrets).
public struct NodeFacts: Sendable, Equatable {
    public var hostname: String
    public var environment: [String: String]

    public init(hostname: String, environment: [String: String]) {
        self.hostname = hostname
        self.environment = environment
    }

    public static func current(allowlist: [String]) -> NodeFacts {
        let all = ProcessInfo.processInfo.environment
        var allowed: [String: String] = [:]
        for name in allowlist { allowed[name] = all[name] }
        return NodeFacts(hostname: ProcessInfo.processInfo.hostName, environment: allowed)
    }
}
