import AgentAuthCore
import Foundation
import NIOSSL
import PostgresNIO

/// A `postgres://user:password@host:port/database?sslmode=…&sslrootcert=…` URL, read the way
/// libpq reads it: `sslmode` is `disable`, `prefer` (the default), `require`, `verify-ca` or
/// `verify-full`; `sslrootcert` names the PEM file of the CA for the two `verify-` modes (the
/// system's roots otherwise). As in libpq, `prefer` and `require` encrypt without checking the
/// certificate, `verify-ca` checks it against the CA, `verify-full` checks the host name too.
public struct PostgresURL: Sendable {
    public enum SSLMode: String, Sendable, CaseIterable {
        case disable, prefer, require
        case verifyCA = "verify-ca"
        case verifyFull = "verify-full"
    }

    public let host: String
    public let port: Int
    let username: String
    let password: String?
    let database: String?
    public let sslMode: SSLMode
    let sslRootCert: String?

    /// Parses `text`; a malformed URL or an unknown `sslmode` is a `StoreError.unavailable`
    /// naming what is wrong (never the password).
    public init(_ text: String) throws {
        guard let components = URLComponents(string: text), ["postgres", "postgresql"].contains(components.scheme ?? ""),
            let host = components.host, !host.isEmpty, let user = components.user
        else {
            throw StoreError.unavailable("the PostgreSQL URL must look like postgres://user:password@host:port/database")
        }
        let query = components.queryItems ?? []
        let mode = query.last { $0.name == "sslmode" }?.value ?? SSLMode.prefer.rawValue
        guard let sslMode = SSLMode(rawValue: mode) else {
            let modes = SSLMode.allCases.map(\.rawValue).joined(separator: ", ")
            throw StoreError.unavailable("the PostgreSQL URL's sslmode must be one of \(modes), not \(mode)")
        }
        self.host = host
        port = components.port ?? 5432
        username = user.removingPercentEncoding ?? user
        password = components.password.map { $0.removingPercentEncoding ?? $0 }
        let path = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : ""
        database = path.isEmpty ? nil : path
        self.sslMode = sslMode
        sslRootCert = query.last { $0.name == "sslrootcert" }?.value
    }

    /// The TLS settings `sslmode` asks for, and whether a server without TLS is still accepted
    /// (`prefer`); `nil` for `disable`.
    func tlsSettings() throws -> (configuration: TLSConfiguration, optional: Bool)? {
        var tls = TLSConfiguration.makeClientConfiguration()
        switch sslMode {
        case .disable: return nil
        case .prefer, .require: tls.certificateVerification = .none
        case .verifyCA: tls.certificateVerification = .noHostnameVerification
        case .verifyFull: tls.certificateVerification = .fullVerification
        }
        if let sslRootCert, sslMode == .verifyCA || sslMode == .verifyFull {
            guard FileManager.default.isReadableFile(atPath: sslRootCert) else {
                throw StoreError.unavailable("the PostgreSQL URL's sslrootcert \(sslRootCert) cannot be read")
            }
            tls.trustRoots = .file(sslRootCert)
        }
        return (tls, sslMode == .prefer)
    }

    /// The pool's configuration.
    func clientConfiguration() throws -> PostgresClient.Configuration {
        let tls: PostgresClient.Configuration.TLS =
            switch try tlsSettings() {
            case nil: .disable
            case let (configuration, optional)?: optional ? .prefer(configuration) : .require(configuration)
            }
        var configuration = PostgresClient.Configuration(
            host: host,
            port: port,
            username: username,
            password: password,
            database: database,
            tls: tls
        )
        configuration.options.connectTimeout = .seconds(2)
        return configuration
    }

    /// The same server, login and TLS for one connection outside the pool (the start-up probe
    /// and the LISTEN connection).
    func connectionConfiguration() throws -> PostgresConnection.Configuration {
        let tls: PostgresConnection.Configuration.TLS
        do {
            tls =
                switch try tlsSettings() {
                case nil: .disable
                case let (configuration, optional)?:
                    optional ? .prefer(try NIOSSLContext(configuration: configuration)) : .require(try NIOSSLContext(configuration: configuration))
                }
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError.unavailable("cannot set up TLS for PostgreSQL (sslmode=\(sslMode.rawValue)): \(error)")
        }
        var configuration = PostgresConnection.Configuration(
            host: host,
            port: port,
            username: username,
            password: password,
            database: database,
            tls: tls
        )
        configuration.options.connectTimeout = .seconds(2)
        return configuration
    }

    /// Why a connection failed, in words an operator can act on; never the password.
    static func reason(_ error: any Error) -> String {
        guard let error = error as? PSQLError else { return Self.describe(error) }
        switch error.code {
        case .sslUnsupported:
            return "the server does not offer TLS, which sslmode requires"
        case .server:
            let state = error.serverInfo?[.sqlState] ?? ""
            let message = error.serverInfo?[.message] ?? "error \(state)"
            if state == "28P01" || state == "28000" { return "authentication failed (\(message))" }
            return message
        case .connectionError, .failedToAddSSLHandler:
            return error.underlying.map(Self.describe) ?? error.code.description
        default:
            return error.underlying.map(Self.describe) ?? error.code.description
        }
    }

    private static func describe(_ error: any Error) -> String {
        let text = String(describing: error)
        let lowered = text.lowercased()
        if lowered.contains("connection refused") { return "connection refused" }
        if lowered.contains("timeout") || lowered.contains("timed out") { return "timed out" }
        if lowered.contains("name or service not known") || lowered.contains("unknown") && lowered.contains("host")
            || lowered.contains("nodename nor servname") || lowered.contains("dns")
        {
            return "unknown host"
        }
        if lowered.contains("certificate") || lowered.contains("handshake") || lowered.contains("ssl") { return "TLS failed: \(text)" }
        return text
    }
}
