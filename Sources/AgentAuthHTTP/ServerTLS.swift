import Foundation
public import NIOSSL
import SwiftASN1
import X509

/// The certificate chain and private key an AgentAuth server serves HTTPS with, read from PEM
/// files and checked before the server starts: both files readable, the certificate chain and
/// the key parsed, and the key the one the first certificate was issued for. So a wrong file
/// is refused at start with one line, instead of every handshake failing later.
public struct ServerTLS: Sendable {
    /// The TLS server configuration built from the files (TLS 1.2 or later, NIOSSL's defaults).
    public let configuration: TLSConfiguration

    /// - Parameters:
    ///   - certificateFile: PEM certificates: the server's first, then any intermediates.
    ///   - keyFile: the PEM private key of the first certificate (PKCS #8, SEC1 or RSA).
    public init(certificateFile: String, keyFile: String) throws(ServerTLSError) {
        let certificatePEM = try Self.read(certificateFile, what: "TLS certificate")
        let keyPEM = try Self.read(keyFile, what: "TLS private key")
        guard let chain = try? NIOSSLCertificate.fromPEMBytes(Array(certificatePEM.utf8)), let leaf = chain.first,
            let leafDER = try? leaf.toDERBytes(), let leafCertificate = try? Certificate(derEncoded: leafDER)
        else { throw ServerTLSError("the TLS certificate file \(certificateFile) holds no PEM certificate") }
        guard let keyDocument = Self.privateKeyDocument(in: keyPEM), let key = try? Certificate.PrivateKey(pemEncoded: keyDocument),
            let sslKey = try? NIOSSLPrivateKey(bytes: Array(keyDocument.utf8), format: .pem)
        else { throw ServerTLSError("the TLS private key file \(keyFile) holds no PEM private key (PKCS #8, SEC1 or RSA)") }
        guard key.publicKey == leafCertificate.publicKey else {
            throw ServerTLSError("the TLS private key in \(keyFile) does not match the certificate in \(certificateFile)")
        }
        let configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) },
            privateKey: .privateKey(sslKey)
        )
        do {
            _ = try NIOSSLContext(configuration: configuration)
        } catch {
            throw ServerTLSError("the TLS certificate and key cannot be used: \(error)")
        }
        self.configuration = configuration
    }

    private static func read(_ path: String, what: String) throws(ServerTLSError) -> String {
        guard let data = FileManager.default.contents(atPath: path) else { throw ServerTLSError("cannot read the \(what) file \(path)") }
        return String(decoding: data, as: UTF8.self)
    }

    /// The private-key block of a PEM file, which may hold others (`openssl ecparam -genkey`
    /// writes the curve's parameters before the key).
    static func privateKeyDocument(in pem: String) -> String? {
        var rest = Substring(pem)
        while let begin = rest.range(of: "-----BEGIN ") {
            guard let labelEnd = rest[begin.upperBound...].range(of: "-----") else { return nil }
            let label = rest[begin.upperBound..<labelEnd.lowerBound]
            guard let end = rest[labelEnd.upperBound...].range(of: "-----END \(label)-----") else { return nil }
            if label.hasSuffix("PRIVATE KEY") { return String(rest[begin.lowerBound..<end.upperBound]) }
            rest = rest[end.upperBound...]
        }
        return nil
    }
}

/// Why TLS files were refused: one line naming the file and what is wrong with it.
public struct ServerTLSError: Error, CustomStringConvertible {
    public let description: String

    init(_ description: String) { self.description = description }
}
