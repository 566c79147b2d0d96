import Foundation

/// A private certificate authority (`ca.pem`) and certificates it signed for 127.0.0.1
/// (`server.pem`/`server.key`, `client.pem`/`client.key`), made with the openssl CLI in a
/// directory: what HTTPS and mutual TLS inside a company look like.
public struct TestCertificates: Sendable {
    public let directory: String
    public var authority: String { directory + "/ca.pem" }
    public var certificate: String { directory + "/server.pem" }
    public var key: String { directory + "/server.key" }
    public var clientCertificate: String { directory + "/client.pem" }
    public var clientKey: String { directory + "/client.key" }

    public init(in directory: String) throws {
        self.directory = directory
        try Self.openssl(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=git2kv test CA"], in: directory)
        for name in ["server", "client"] {
            try Self.openssl(["req", "-newkey", "rsa:2048", "-nodes", "-keyout", "\(name).key", "-out", "\(name).csr", "-subj", "/CN=127.0.0.1"], in: directory)
            // DNS as well as IP: mbedTLS (libgit2's TLS here) matches an IP host against DNS names.
            try "subjectAltName=DNS:127.0.0.1,IP:127.0.0.1\n".write(toFile: directory + "/\(name).ext", atomically: true, encoding: .utf8)
            try Self.openssl(
                ["x509", "-req", "-in", "\(name).csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", "\(name).pem", "-days", "2", "-extfile", "\(name).ext"],
                in: directory)
        }
    }

    private static func openssl(_ arguments: [String], in directory: String) throws {
        let result = try ProcessRunner.run("/usr/bin/openssl", arguments, in: directory)
        guard result.status == 0 else { throw GitCLI.Failure(arguments: ["openssl"] + arguments, status: result.status, standardError: result.errors) }
    }
}
