import AsyncHTTPClient
import Crypto
import Foundation
import NIOSSL
import SwiftASN1
import X509

/// A self-signed P-256 certificate for 127.0.0.1 and localhost, made for one test and written
/// with its key to PEM files, and HTTP clients that trust it (and nothing else).
struct TestCertificate {
    let certificateFile: String
    let keyFile: String
    let pem: String

    /// Writes `name`.crt and `name`.key in `directory`.
    init(in directory: URL, name: String = "server") throws {
        let key = P256.Signing.PrivateKey()
        let subject = try DistinguishedName { CommonName("AgentAuth test \(name)") }
        let now = Date()
        let certificate = try Certificate(
            version: .v3,
            serialNumber: Certificate.SerialNumber(),
            publicKey: .init(key.publicKey),
            notValidBefore: now.addingTimeInterval(-300),
            notValidAfter: now.addingTimeInterval(3600),
            issuer: subject,
            subject: subject,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: nil))
                Critical(KeyUsage(digitalSignature: true, keyCertSign: true))
                SubjectAlternativeNames([.dnsName("localhost"), .ipAddress(ASN1OctetString(contentBytes: [127, 0, 0, 1]))])
            },
            issuerPrivateKey: .init(key)
        )
        pem = try certificate.serializeAsPEM().pemString
        certificateFile = directory.appendingPathComponent("\(name).crt").path
        keyFile = directory.appendingPathComponent("\(name).key").path
        try Data(pem.utf8).write(to: URL(fileURLWithPath: certificateFile))
        try Data(key.pemRepresentation.utf8).write(to: URL(fileURLWithPath: keyFile))
    }

    /// The flags that serve HTTPS with it.
    var serveArguments: [String] { ["--tls-cert", certificateFile, "--tls-key", keyFile] }

    /// Runs `body` with a client trusting this certificate alone, shut down afterwards.
    func withClient<T>(_ body: (HTTPClient) async throws -> T) async throws -> T {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(Array(pem.utf8)))
        let client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: .init(tlsConfiguration: tls))
        do {
            let result = try await body(client)
            try await client.shutdown()
            return result
        } catch {
            try? await client.shutdown()
            throw error
        }
    }
}
