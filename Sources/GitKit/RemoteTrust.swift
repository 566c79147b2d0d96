/// Whom a fetch trusts: the certificate authorities for HTTPS remotes (`credentials.ca_file`,
/// the system's when nil) and the SSH host keys (`credentials.known_hosts_file`,
/// `~/.ssh/known_hosts` when nil).
public struct RemoteTrust: Sendable, Equatable, Codable {
    public var caFile: String?
    public var knownHostsFile: String?

    public init(caFile: String? = nil, knownHostsFile: String? = nil) {
        self.caFile = caFile
        self.knownHostsFile = knownHostsFile
    }

    /// The known_hosts file SSH host keys are checked against.
    public var knownHostsPath: String { knownHostsFile ?? KnownHosts.defaultPath }
}

/// The host and port of an SSH remote URL (`ssh://user@host:2222/x.git` or `user@host:x.git`).
enum SSHAddress {
    static func hostAndPort(of url: String) -> (host: String, port: Int)? {
        if let scheme = url.range(of: "://") {
            guard ["ssh", "ssh+git", "git+ssh"].contains(url[..<scheme.lowerBound].lowercased()) else { return nil }
            var authority = url[scheme.upperBound...].prefix { $0 != "/" }
            if let at = authority.lastIndex(of: "@") { authority = authority[authority.index(after: at)...] }
            if authority.hasPrefix("["), let close = authority.firstIndex(of: "]") {
                let host = String(authority[authority.index(after: authority.startIndex)..<close])
                let rest = authority[authority.index(after: close)...]
                return (host, rest.hasPrefix(":") ? Int(rest.dropFirst()) ?? 22 : 22)
            }
            let parts = authority.split(separator: ":", maxSplits: 1)
            guard let host = parts.first else { return nil }
            return (String(host), parts.count == 2 ? Int(parts[1]) ?? 22 : 22)
        }
        guard let colon = url.firstIndex(of: ":"), !url[..<colon].contains("/") else { return nil }
        var host = url[..<colon]
        if let at = host.lastIndex(of: "@") { host = host[host.index(after: at)...] }
        return (String(host), 22)
    }
}
