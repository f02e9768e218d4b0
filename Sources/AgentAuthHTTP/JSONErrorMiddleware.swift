import AgentAuthCore
import Foundation
public import Hummingbird
public import Logging

/// The outermost middleware: whatever goes wrong below becomes a JSON error with a 4xx or 503
/// status. Unexpected errors are logged (without request data) and answered with a bare 500.
public struct JSONErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    public init() {}

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            return Self.oauthError(for: error, logger: context.logger).makeResponse()
        }
    }

    /// The JSON error a thrown error becomes (also used to audit refusals by status).
    public static func oauthError(for error: any Error, logger: Logger) -> OAuthError {
        switch error {
        case let error as OAuthError:
            return error
        case let error as AdministrationError:
            switch error.kind {
            case .notFound: return .notFound(error.reason)
            case .conflict: return .conflict(error.reason)
            default: return .invalidRequest(error.reason)
            }
        case let error as StoreError:
            switch error.kind {
            case .unavailable:
                logger.error("store unavailable", metadata: ["reason": "\(error.reason)"])
                return .temporarilyUnavailable("the credential store is unavailable; try again")
            case .notFound: return .notFound(error.reason)
            case .conflict: return .conflict(error.reason)
            }
        case TokenRejection.keysUnavailable:
            return .temporarilyUnavailable("token verification keys are unavailable; try again", retryAfter: 2)
        case is CredentialRejection, is TokenRejection:
            return .invalidToken()
        case let error as OAuthProtocolError:
            return OAuthError(protocolError: error)
        case is DecodingError:
            return .invalidRequest("the request body is not valid JSON of the expected shape")
        case let error as any HTTPResponseError:
            return httpError(error.status)
        default:
            logger.error("unexpected error", metadata: ["type": "\(type(of: error))"])
            return OAuthError(.internalServerError, code: .serverError, description: "internal error")
        }
    }

    static func httpError(_ status: HTTPResponse.Status) -> OAuthError {
        switch status {
        case .notFound: .notFound("no such endpoint")
        case .methodNotAllowed: OAuthError(status, code: .methodNotAllowed, description: "method not allowed on this endpoint")
        case .contentTooLarge: OAuthError(status, code: .requestTooLarge, description: "the request body is too large")
        case .unauthorized: .missingCredentials()
        case .forbidden: OAuthError(status, code: .forbidden, description: "not allowed")
        case .unsupportedMediaType: OAuthError(status, code: .invalidRequest, description: "unsupported content type")
        default:
            if (400..<500).contains(status.code) {
                OAuthError(status, code: .invalidRequest, description: status.reasonPhrase)
            } else {
                OAuthError(status, code: .serverError, description: status.reasonPhrase)
            }
        }
    }
}
