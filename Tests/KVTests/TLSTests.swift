import Foundation
import KV
import Testing
import TestFixtures

@Suite("HTTPS with a CA and a client certificate")
struct TLSTests {
    @Test("a client with the CA and its certificate reads; one without its certificate cannot; bad files are named")
    func mutualTLS() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        _ = try TestCertificates(in: directory.path)
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
