/// `HOST:PORT` as the `listen` settings and `--listen` flags take it; an empty host is 127.0.0.1.
package struct ListenAddress: Sendable, Equatable {
    package var host: String
    package var port: Int

    /// Nil when `text` is not HOST:PORT with a port from 0 (any free port) to 65535.
    package init?(_ text: String) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port) else {
            return nil
        }
        let host = String(text[..<colon])
        self.host = host.isEmpty ? "127.0.0.1" : host
        self.port = port
    }
}
