public import AsyncHTTPClient
import NIOSSL
import Synchronization

/// HTTPS to Consul: a CA bundle to trust and, for mutual TLS, a client certificate and key.
public struct KVTLSConfiguration: Sendable, Hashable {
    public var caFile: String?
    public var certificateFile: String?
    public var keyFile: String?

    public init(caFile: String? = nil, certificateFile: String? = nil, keyFile: String? = nil) {
        self.caFile = caFile
        self.certificateFile = certificateFile
        self.keyFile = keyFile
    }
}

extension ConsulClient {
    private static let tlsClients = Mutex<[KVTLSConfiguration: HTTPClient]>([:])

    /// An HTTP client for `tls`, made once per configuration and kept for the life of the
    /// process (like the shared client). Fails when a file cannot be read or parsed.
    public static func httpClient(tls: KVTLSConfiguration) throws(KVError) -> HTTPClient {
        if let existing = tlsClients.withLock({ $0[tls] }) { return existing }
        var settings = TLSConfiguration.makeClientConfiguration()
        do {
            if let caFile = tls.caFile {
                settings.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(caFile))
            }
            switch (tls.certificateFile, tls.keyFile) {
            case (let certificate?, let key?):
                settings.certificateChain = try NIOSSLCertificate.fromPEMFile(certificate).map { .certificate($0) }
                settings.privateKey = .privateKey(try NIOSSLPrivateKey(file: key, format: .pem))
            case (nil, nil):
                break
            default:
                throw KVError(kind: .invalidRequest, operation: "set up TLS", message: "a client certificate needs both a certificate file and a key file")
            }
        } catch let error as KVError {
            throw error
        } catch {
            throw KVError(kind: .invalidRequest, operation: "set up TLS", message: "cannot load TLS files (\(Self.describe(tls))): \(error)")
        }
        var configuration = sharedConfiguration
        configuration.tlsConfiguration = settings
        return tlsClients.withLock { clients in
            if let existing = clients[tls] { return existing }
            let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
            clients[tls] = client
            return client
        }
    }

    private static func describe(_ tls: KVTLSConfiguration) -> String {
        [tls.caFile.map { "CA \($0)" }, tls.certificateFile.map { "certificate \($0)" }, tls.keyFile.map { "key \($0)" }]
            .compactMap { $0 }.joined(separator: ", ")
    }
}
