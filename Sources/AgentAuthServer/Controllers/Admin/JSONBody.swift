import AgentAuthCore
import AgentAuthHTTP
import Foundation
import Hummingbird

/// Reads admin-API JSON bodies: size-limited by the context, refusing empty or non-JSON bodies with 400.
enum JSONBody {
    static func decode<T: Decodable>(_ type: T.Type, from request: Request, context: AgentAuthRequestContext) async throws -> T {
        guard let value = try await decodeIfPresent(type, from: request, context: context) else {
            throw OAuthError.invalidRequest("a JSON body is required")
        }
        return value
    }

    /// The typed body and the same body as a JSON object, for members that stay free-form (a JWKS).
    static func decodeWithObject<T: Decodable>(
        _ type: T.Type,
        from request: Request,
        context: AgentAuthRequestContext
    ) async throws
        -> (T, [String: Any])
    {
        let buffer = try await request.body.collect(upTo: context.maxUploadSize)
        let data = Data(buffer.readableBytesView)
        guard !data.isEmpty else { throw OAuthError.invalidRequest("a JSON body is required") }
        try checkContentType(request)
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any], let value = try? JSONDecoder().decode(T.self, from: data)
        else {
            throw OAuthError.invalidRequest("the body is not valid JSON of the expected shape")
        }
        return (value, object)
    }

    static func checkContentType(_ request: Request) throws {
        if let contentType = request.headers[.contentType], !contentType.lowercased().hasPrefix("application/json") {
            throw OAuthError(.unsupportedMediaType, code: .invalidRequest, description: "the body must be application/json")
        }
    }

    /// `nil` for an empty body.
    static func decodeIfPresent<T: Decodable>(_ type: T.Type, from request: Request, context: AgentAuthRequestContext) async throws -> T? {
        let buffer = try await request.body.collect(upTo: context.maxUploadSize)
        guard buffer.readableBytes > 0 else { return nil }
        try checkContentType(request)
        do {
            return try JSONDecoder().decode(T.self, from: Data(buffer.readableBytesView))
        } catch {
            throw OAuthError.invalidRequest("the body is not valid JSON of the expected shape")
        }
    }
}
