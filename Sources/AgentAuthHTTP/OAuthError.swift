public import AgentAuthCore
import Foundation
public import Hummingbird

/// Every error AgentAuth answers with: `{"error": "...", "error_description": "..."}` and the
/// right status, plus any challenge headers (RFC 6749 §5.2, RFC 6750 §3, RFC 7662, RFC 7009).
public struct OAuthError: HTTPResponseError, Sendable {
    public var status: HTTPResponse.Status
    public var code: OAuthErrorCode
    public var description: String?
    public var headers: HTTPFields

    public init(_ status: HTTPResponse.Status, code: OAuthErrorCode, description: String? = nil, headers: HTTPFields = [:]) {
        self.status = status
        self.code = code
        self.description = description
        self.headers = headers
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        makeResponse()
    }

    private static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    /// The response on its own, for places that answer without a request (the error middleware's last resort).
    public func makeResponse() -> Response {
        struct Body: Encodable {
            let error: String
            let error_description: String?
        }
        let data = (try? Self.encoder.encode(Body(error: code.rawValue, error_description: description))) ?? Data(#"{"error":"server_error"}"#.utf8)
        var headers = self.headers
        headers[.contentType] = "application/json; charset=utf-8"
        headers[.cacheControl] = "no-store"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}

extension OAuthError {
    /// RFC 6749 §5.2: 400, except `invalid_client`, which is 401 with a Basic challenge.
    public init(protocolError: OAuthProtocolError) {
        if protocolError.code == .invalidClient {
            self.init(
                .unauthorized,
                code: protocolError.code,
                description: protocolError.reason,
                headers: [.wwwAuthenticate: #"Basic realm="agentauth""#]
            )
        } else {
            self.init(.badRequest, code: protocolError.code, description: protocolError.reason)
        }
    }

    public static func invalidRequest(_ description: String) -> OAuthError {
        OAuthError(.badRequest, code: .invalidRequest, description: description)
    }

    /// RFC 6750 §3.1 `invalid_request` for a protected resource, with its challenge.
    public static func invalidBearerRequest(_ description: String) -> OAuthError {
        OAuthError(.badRequest, code: .invalidRequest, description: description, headers: [.wwwAuthenticate: #"Bearer error="invalid_request""#])
    }

    public static func notFound(_ description: String) -> OAuthError {
        OAuthError(.notFound, code: .notFound, description: description)
    }

    public static func methodNotAllowed(allow: String) -> OAuthError {
        OAuthError(.methodNotAllowed, code: .invalidRequest, description: "use \(allow) on this endpoint", headers: [.allow: allow])
    }

    public static func conflict(_ description: String) -> OAuthError {
        OAuthError(.conflict, code: .conflict, description: description)
    }

    /// 503 with `Retry-After`: the caller may try again; never a silent success.
    public static func temporarilyUnavailable(_ description: String, retryAfter: Int = 1) -> OAuthError {
        OAuthError(.serviceUnavailable, code: .temporarilyUnavailable, description: description, headers: [.retryAfter: String(retryAfter)])
    }

    /// RFC 6750 §3.1: no credentials at all → a bare challenge, no error attribute.
    public static func missingCredentials() -> OAuthError {
        OAuthError(.unauthorized, code: .unauthorized, description: "authentication required", headers: [.wwwAuthenticate: "Bearer"])
    }

    /// RFC 6750 §3.1 `invalid_token`: the same answer whatever was wrong with the credential.
    public static func invalidToken(_ description: String = "the credential is invalid, expired or revoked") -> OAuthError {
        OAuthError(
            .unauthorized,
            code: .invalidToken,
            description: description,
            headers: [.wwwAuthenticate: #"Bearer error="invalid_token", error_description="\#(description)""#]
        )
    }

    /// RFC 6750 §3.1 `insufficient_scope`, naming the scope the route needs.
    public static func insufficientScope(_ required: String) -> OAuthError {
        OAuthError(
            .forbidden,
            code: .insufficientScope,
            description: "this request needs scope \(required)",
            headers: [.wwwAuthenticate: #"Bearer error="insufficient_scope", scope="\#(required)""#]
        )
    }
}
