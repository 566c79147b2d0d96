import ArgumentParser
import KVServer

/// `git2kv kv-server`: the embedded Consul-compatible KV server.
struct KVServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kv-server",
        abstract: "Run an embedded KV server that speaks Consul's HTTP API (KV, blocking queries, transactions)."
    )

    @Option(help: "Address to listen on, HOST:PORT.")
    var listen: String = "127.0.0.1:8500"

    func run() async throws {
        guard let colon = listen.lastIndex(of: ":"), let port = Int(listen[listen.index(after: colon)...]),
            (0...65535).contains(port)
        else {
            throw ValidationError("--listen must be HOST:PORT, got \(listen)")
        }
        let host = String(listen[..<colon])
        let server = KVServer(host: host.isEmpty ? "127.0.0.1" : host, port: port)
        try await server.run(handleSignals: true) { port in
            print("kv-server listening on \(host):\(port)")
        }
    }
}
