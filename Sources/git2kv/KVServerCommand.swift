import ArgumentParser
import CommandSupport
import Foundation
import KV
import KVServer
import Pipeline
import ConfigParsing

/// `git2kv kv-server`: the embedded Consul-compatible KV server.
struct KVServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kv-server",
        abstract: "Run an embedded server that speaks Consul's HTTP API (KV, blocking queries, transactions, sessions, catalog, ACLs)."
    )

    @Option(help: "Address to listen on, HOST:PORT.")
    var listen: String = "127.0.0.1:8500"

    @Option(help: "Directory for the write-ahead log and snapshots; without it, data lives in memory only.")
    var dataDir: String?

    @Option(help: "Turn ACLs on with this management token (default policy: deny). It shows in `ps`: prefer --acl-bootstrap-token-file.")
    var aclBootstrapToken: String?

    @Option(help: "Turn ACLs on with the management token in this file (trailing white space ignored).")
    var aclBootstrapTokenFile: String?

    @Flag(help: "Start although the log is damaged before its end: keep the records before the damage, drop the rest (and say how many).")
    var recover = false

    @Option(help: ArgumentHelp("Shortest session TTL accepted (Consul: 10s); shorter ones let tests fail over quickly.", visibility: .hidden))
    var minSessionTtl: String?

    @Option(help: ArgumentHelp("Wait this long before every fsync, like an overloaded disk (the reliability suite's slow-disk chaos).", visibility: .hidden))
    var simulateSlowFsync: String?

    func run() async throws {
        guard let address = ListenAddress(listen) else { throw ValidationError("--listen must be HOST:PORT, got \(listen)") }
        let host = address.host
        var limits = KVServerLimits()
        if let minSessionTtl {
            guard let parsed = ConsulWire.parseDuration(Substring(minSessionTtl)) else {
                throw ValidationError("--min-session-ttl must be a duration like 2s, got \(minSessionTtl)")
            }
            limits.minSessionTTL = parsed
        }
        if let simulateSlowFsync {
            guard let parsed = ConsulWire.parseDuration(Substring(simulateSlowFsync)) else {
                throw ValidationError("--simulate-slow-fsync must be a duration like 200ms, got \(simulateSlowFsync)")
            }
            limits.slowFlush = parsed
        }
        var bootstrapToken = aclBootstrapToken
        if let aclBootstrapTokenFile {
            guard aclBootstrapToken == nil else { throw ValidationError("give --acl-bootstrap-token or --acl-bootstrap-token-file, not both") }
            guard let data = FileManager.default.contents(atPath: aclBootstrapTokenFile),
                let token = String(data: data, encoding: .utf8)?.trimmingCharacters(in: .whitespacesAndNewlines), !token.isEmpty
            else {
                throw ValidationError("--acl-bootstrap-token-file \(aclBootstrapTokenFile) cannot be read or is empty")
            }
            bootstrapToken = token
        }
        var server = KVServer(
            host: host, port: address.port, dataDirectory: dataDir, aclBootstrapToken: bootstrapToken, limits: limits)
        server.recoverDamagedLog = recover
        do {
            try await server.run(handleSignals: true) { port in
                let storage = dataDir.map { ", data in \($0)" } ?? ", in memory"
                FileHandle.standardOutput.write(Data("kv-server listening on \(host):\(port)\(storage)\n".utf8))
            }
        } catch let error as StorageError {
            throw ValidationError("kv-server: \(error)")
        }
    }
}
