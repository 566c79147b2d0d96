import Foundation
import KV
import Testing
import TestFixtures

@Suite("HTTPS with a CA and a client certificate")
struct TLSTests {
    /// A CA, a server certificate for 127.0.0.1 and a client certificate, made with openssl.
    private func certificates(in directory: TemporaryDirectory) throws {
        func openssl(_ arguments: [String]) throws {
            let result = try ProcessRunner.run("/usr/bin/openssl", arguments, in: directory.path)
            guard result.status == 0 else { throw UnexpectedStatus(status: Int(result.status), body: result.errors) }
        }
        try openssl(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=git2kv test CA"])
        for name in ["server", "client"] {
            try openssl(["req", "-newkey", "rsa:2048", "-nodes", "-keyout", "\(name).key", "-out", "\(name).csr", "-subj", "/CN=127.0.0.1"])
            try "subjectAltName=IP:127.0.0.1\n".write(toFile: directory.appending("\(name).ext"), atomically: true, encoding: .utf8)
            try openssl(["x509", "-req", "-in", "\(name).csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", "\(name).pem", "-days", "2", "-extfile", "\(name).ext"])
        }
    }

    @Test("a client with the CA and its certificate reads; one without its certificate cannot; bad files are named")
    func mutualTLS() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try certificates(in: directory)
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Support/tls_consul_stub.py").path
        let stub = try BackgroundProcess("/usr/bin/python3", [script, directory.appending("server.pem"), directory.appending("server.key"), directory.appending("ca.pem")])
        defer { stub.kill() }
        let address = "https://127.0.0.1:\(stub.firstLine)"

        let tls = KVTLSConfiguration(caFile: directory.appending("ca.pem"), certificateFile: directory.appending("client.pem"), keyFile: directory.appending("client.key"))
        let client = ConsulClient(.init(address: address, requestTimeout: .seconds(10)), httpClient: try ConsulClient.httpClient(tls: tls))
        #expect(try await client.get("tls").value?.value == Array("secure".utf8))

        let withoutCertificate = ConsulClient(
            .init(address: address, requestTimeout: .seconds(10)),
            httpClient: try ConsulClient.httpClient(tls: KVTLSConfiguration(caFile: directory.appending("ca.pem"))))
        await #expect(throws: KVError.self) { try await withoutCertificate.get("tls") }

        let missing = #expect(throws: KVError.self) {
            try ConsulClient.httpClient(tls: KVTLSConfiguration(caFile: directory.appending("nope.pem")))
        }
        #expect(missing?.description.contains("nope.pem") == true)
        let half = #expect(throws: KVError.self) {
            try ConsulClient.httpClient(tls: KVTLSConfiguration(certificateFile: directory.appending("client.pem")))
        }
        #expect(half?.message.contains("both") == true)
    }
}
