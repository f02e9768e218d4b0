import AgentAuthCore
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// Sends token requests and RFC 8414 metadata requests with the retry policy: network errors
/// and 5xx are tried again after a backoff, everything else is final.
struct TokenEndpointClient: Sendable {
    let httpClient: HTTPClient
    let retry: RetryPolicy
    let requestTimeout: Duration
    let now: @Sendable () -> ContinuousClock.Instant
    /// The lifetime assumed when a token response has no `expires_in`.
    let lifetimeWhenUnstated: Duration

    static let maxResponseBytes = 64 * 1024
    static let accessTokenType = "urn:ietf:params:oauth:token-type:access_token"

    /// One grant at `url`, authenticated as `client`. A new client assertion is signed for every
    /// attempt: the server keeps each `jti` and refuses it a second time.
    func requestToken(url: String, grant: [(name: String, value: String)], client: ClientAuthentication) async throws -> AccessToken {
        try await withRetries { () async throws -> Attempt<AccessToken> in
            var parameters = grant
            var request = HTTPClientRequest(url: url)
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
            request.headers.add(name: "Accept", value: "application/json")
            switch client.method {
            case .clientSecretBasic(let secret):
                let pair = FormURLEncoding.encode(client.clientID) + ":" + FormURLEncoding.encode(secret)
                request.headers.add(name: "Authorization", value: "Basic " + Data(pair.utf8).base64EncodedString())
            case .clientSecretPost(let secret):
                parameters += [("client_id", client.clientID), ("client_secret", secret)]
            case .privateKeyJWT(let key):
                let assertion = try await key.assertion(clientID: client.clientID, audience: url)
                parameters += [
                    ("client_id", client.clientID),
                    ("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"),
                    ("client_assertion", assertion),
                ]
            }
            request.body = .bytes(ByteBuffer(string: FormURLEncoding.encode(parameters)))
            let (head, body) = try await send(request)
            let receivedAt = now()
            switch head.status.code {
            case 200..<300:
                return .success(try Self.accessToken(from: body, receivedAt: receivedAt, lifetimeWhenUnstated: lifetimeWhenUnstated))
            case 500..<600:
                return .retry(reason: "HTTP \(head.status.code)", retryAfter: Self.retryAfter(head.headers))
            default:
                throw Self.refusal(status: Int(head.status.code), headers: head.headers, body: body)
            }
        }
    }

    /// The token endpoint from the issuer's RFC 8414 metadata, after checking that the
    /// metadata is the issuer's own (§3.3) and supports `method`.
    func discoverTokenEndpoint(issuer: String, method: ClientAuthMethod) async throws -> String {
        guard let metadataURL = Self.metadataURL(issuer: issuer) else {
            throw AgentAuthClientError.discoveryFailed("the issuer is not an http(s) URL without query or fragment")
        }
        let metadata = try await withRetries { () async throws -> Attempt<Metadata> in
            var request = HTTPClientRequest(url: metadataURL)
            request.headers.add(name: "Accept", value: "application/json")
            let (head, body) = try await send(request)
            switch head.status.code {
            case 200:
                guard let metadata = try? JSONDecoder().decode(Metadata.self, from: body) else {
                    throw AgentAuthClientError.discoveryFailed("the metadata at \(metadataURL) is not valid JSON metadata")
                }
                return .success(metadata)
            case 500..<600:
                return .retry(reason: "HTTP \(head.status.code)", retryAfter: Self.retryAfter(head.headers))
            default:
                throw AgentAuthClientError.discoveryFailed("\(metadataURL) answered \(head.status.code)")
            }
        }
        return try Self.tokenEndpoint(in: metadata, issuer: issuer, method: method)
    }

    /// The token endpoint of `metadata`, if it is the issuer's own (RFC 8414 §3.3: the `issuer`
    /// member is exactly the issuer asked for), is an absolute URL no weaker than the issuer's
    /// (no `http` endpoint for an `https` issuer), and takes `method`.
    static func tokenEndpoint(in metadata: Metadata, issuer: String, method: ClientAuthMethod) throws -> String {
        guard metadata.issuer == issuer else {
            throw AgentAuthClientError.discoveryFailed("the metadata names issuer \(metadata.issuer), not \(issuer)")
        }
        guard let endpoint = metadata.tokenEndpoint, let components = URLComponents(string: endpoint),
            let scheme = components.scheme?.lowercased(), scheme == "https" || scheme == "http",
            components.host?.isEmpty == false, components.fragment == nil
        else {
            throw AgentAuthClientError.discoveryFailed("the metadata has no absolute http(s) token_endpoint")
        }
        if scheme == "http", URLComponents(string: issuer)?.scheme?.lowercased() != "http" {
            throw AgentAuthClientError.discoveryFailed("the token_endpoint is http under an https issuer")
        }
        // RFC 8414 §2: when the member is absent, the default is client_secret_basic.
        let supported = metadata.tokenEndpointAuthMethodsSupported ?? [ClientAuthMethod.clientSecretBasic.rawValue]
        guard supported.contains(method.rawValue) else {
            throw AgentAuthClientError.discoveryFailed("the server does not support \(method.rawValue) at its token endpoint")
        }
        return endpoint
    }

    /// RFC 8414 §3.1: the well-known segment goes between the host and the issuer's path.
    static func metadataURL(issuer: String) -> String? {
        guard let components = URLComponents(string: issuer), let scheme = components.scheme, scheme == "https" || scheme == "http",
            let host = components.host, !host.isEmpty, components.query == nil, components.fragment == nil
        else { return nil }
        let path = components.percentEncodedPath.hasSuffix("/") ? String(components.percentEncodedPath.dropLast()) : components.percentEncodedPath
        let port = components.port.map { ":\($0)" } ?? ""
        let bracketed = host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
        return "\(scheme)://\(bracketed)\(port)/.well-known/oauth-authorization-server\(path)"
    }

    // MARK: Attempts

    enum Attempt<Value> {
        case success(Value)
        case retry(reason: String, retryAfter: Duration?)
    }

    private func withRetries<Value>(_ attempt: () async throws -> Attempt<Value>) async throws -> Value {
        var failures = 0
        while true {
            let reason: String
            var retryAfter: Duration?
            do {
                switch try await attempt() {
                case .success(let value): return value
                case .retry(let why, let after):
                    reason = why
                    retryAfter = after
                }
            } catch let error as Unreachable {
                reason = error.reason
            }
            failures += 1
            guard let delay = retry.delay(afterFailedAttempts: failures, retryAfter: retryAfter) else {
                throw AgentAuthClientError.unavailable(attempts: failures, reason: reason)
            }
            try await Task.sleep(for: delay)
        }
    }

    /// A transport failure: worth another attempt.
    struct Unreachable: Error {
        let reason: String
    }

    /// One request and its whole answer, within `requestTimeout`: AsyncHTTPClient's own deadline
    /// ends when the head arrives, and a server that stalls in the body must not hold the refresh.
    private func send(_ request: HTTPClientRequest) async throws -> (head: HTTPClientResponse, body: Data) {
        let timeout = requestTimeout
        do {
            return try await withThrowingTaskGroup(of: (head: HTTPClientResponse, body: Data)?.self) { group in
                group.addTask {
                    let response = try await httpClient.execute(request, timeout: TimeAmount(timeout))
                    let body = try await response.body.collect(upTo: Self.maxResponseBytes)
                    return (response, Data(body.readableBytesView))
                }
                group.addTask {
                    try await Task.sleep(for: timeout)
                    return nil
                }
                defer { group.cancelAll() }
                guard let first = try await group.next(), let answer = first else {
                    throw Unreachable(reason: "\(request.method) \(Self.redacted(request.url)): no complete answer within \(timeout)")
                }
                return answer
            }
        } catch let error as CancellationError {
            throw error
        } catch let error as Unreachable {
            throw error
        } catch let error as NIOTooManyBytesError {
            throw AgentAuthClientError.invalidResponse("the answer is larger than \(error.maxBytes ?? Self.maxResponseBytes) bytes")
        } catch {
            if Task.isCancelled { throw CancellationError() }
            throw Unreachable(reason: "\(request.method) \(Self.redacted(request.url)): \(error)")
        }
    }

    /// The URL without user info or query, which could hold secrets, for error messages.
    static func redacted(_ url: String) -> String {
        guard var components = URLComponents(string: url) else { return "(the endpoint)" }
        components.user = nil
        components.password = nil
        components.query = nil
        components.fragment = nil
        return components.string ?? "(the endpoint)"
    }

    // MARK: Parsing

    /// The longest lifetime believed: a server's `expires_in` beyond a day is taken as a day
    /// (AgentAuth issues at most a day), so a typo or a hostile value can't pin a token forever.
    static let maxLifetime: Duration = .seconds(86_400)

    static func accessToken(from body: Data, receivedAt: ContinuousClock.Instant, lifetimeWhenUnstated: Duration) throws -> AccessToken {
        guard let response = try? JSONDecoder().decode(TokenResponse.self, from: body) else {
            throw AgentAuthClientError.invalidResponse("not a JSON token response with access_token and token_type")
        }
        // RFC 6749 §7.1: the type is case-insensitive; this SDK sends tokens as Bearer only.
        guard response.tokenType.lowercased() == "bearer" else {
            throw AgentAuthClientError.invalidResponse("token_type \(response.tokenType) is not Bearer")
        }
        guard !response.accessToken.isEmpty, response.accessToken.utf8.allSatisfy({ (0x21...0x7E).contains($0) }) else {
            throw AgentAuthClientError.invalidResponse("access_token is empty or not printable ASCII")
        }
        if let issued = response.issuedTokenType, issued != accessTokenType {
            throw AgentAuthClientError.invalidResponse("issued_token_type \(issued) is not an access token")
        }
        let lifetime: Duration
        switch response.expiresIn {
        case .none:
            // RFC 6749 §5.1: RECOMMENDED, not required.
            lifetime = min(lifetimeWhenUnstated, maxLifetime)
        case .some(let seconds) where seconds.isFinite && seconds > 0:
            lifetime = seconds >= 86_400 ? maxLifetime : .milliseconds(Int64((seconds * 1000).rounded(.down)))
        case .some:
            throw AgentAuthClientError.invalidResponse("expires_in is not a positive number")
        }
        return AccessToken(
            value: response.accessToken,
            scope: response.scope,
            lifetime: lifetime,
            receivedAt: receivedAt,
            issuedTokenType: response.issuedTokenType
        )
    }

    static func refusal(status: Int, headers: HTTPHeaders, body: Data) -> TokenRequestError {
        let object = try? JSONDecoder().decode(ErrorResponse.self, from: body)
        return TokenRequestError(
            code: object.map { OAuthErrorCode(rawValue: $0.error) },
            errorDescription: object?.errorDescription,
            errorURI: object?.errorURI,
            status: status,
            retryAfter: retryAfter(headers)
        )
    }

    /// `Retry-After` as delay-seconds (`1*DIGIT`) or an HTTP-date in any of the three formats a
    /// recipient must accept (RFC 9110 §10.2.3, §5.6.7). Past dates mean no wait.
    static func retryAfter(_ headers: HTTPHeaders, now: Date = Date()) -> Duration? {
        guard let value = headers.first(name: "Retry-After")?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
        if value.allSatisfy(\.isASCIIDigit) {
            return .seconds(Int64(value.prefix(9)) ?? 0)
        }
        for format in ["EEE, dd MMM yyyy HH:mm:ss 'GMT'", "EEEE, dd-MMM-yy HH:mm:ss 'GMT'", "EEE MMM d HH:mm:ss yyyy"] {
            let formatter = DateFormatter()
            formatter.locale = Locale(identifier: "en_US_POSIX")
            formatter.timeZone = TimeZone(identifier: "GMT")
            formatter.dateFormat = format
            if let date = formatter.date(from: value) {
                return .milliseconds(Int64(max(0, date.timeIntervalSince(now)) * 1000))
            }
        }
        return nil
    }

    struct TokenResponse: Decodable {
        let accessToken: String
        let tokenType: String
        let expiresIn: Double?
        let scope: String?
        let issuedTokenType: String?

        enum CodingKeys: String, CodingKey {
            case accessToken = "access_token"
            case tokenType = "token_type"
            case expiresIn = "expires_in"
            case scope
            case issuedTokenType = "issued_token_type"
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            accessToken = try container.decode(String.self, forKey: .accessToken)
            tokenType = try container.decode(String.self, forKey: .tokenType)
            scope = try container.decodeIfPresent(String.self, forKey: .scope)
            issuedTokenType = try container.decodeIfPresent(String.self, forKey: .issuedTokenType)
            // RFC 6749 says a number; some servers send it as a string.
            if try !container.contains(.expiresIn) || container.decodeNil(forKey: .expiresIn) {
                expiresIn = nil
            } else if let number = try? container.decode(Double.self, forKey: .expiresIn) {
                expiresIn = number
            } else if let text = try? container.decode(String.self, forKey: .expiresIn), text.allSatisfy(\.isASCIIDigit), !text.isEmpty {
                expiresIn = Double(text)
            } else {
                expiresIn = .nan  // present but not a number: refused above
            }
        }
    }

    struct ErrorResponse: Decodable {
        let error: String
        let errorDescription: String?
        let errorURI: String?

        enum CodingKeys: String, CodingKey {
            case error
            case errorDescription = "error_description"
            case errorURI = "error_uri"
        }
    }

    struct Metadata: Decodable {
        let issuer: String
        let tokenEndpoint: String?
        let tokenEndpointAuthMethodsSupported: [String]?

        enum CodingKeys: String, CodingKey {
            case issuer
            case tokenEndpoint = "token_endpoint"
            case tokenEndpointAuthMethodsSupported = "token_endpoint_auth_methods_supported"
        }
    }
}
