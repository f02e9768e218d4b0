import AgentAuthHTTP
import Hummingbird

extension FormBody {
    /// The form of a request about one token (introspection, revocation). Its `token` may hold
    /// control characters other than NUL: such a value is just not an active token (RFC 7662
    /// §2.2, RFC 7009 §2.2), not a malformed request.
    static func readAboutToken(from request: Request, context: AgentAuthRequestContext) async throws -> FormBody {
        try await read(from: request, context: context, lenient: ["token"])
    }

    /// The `token` parameter; missing or empty → 400 `invalid_request`.
    func requiredToken() throws -> String {
        guard let token = self["token"], !token.isEmpty else { throw OAuthError.invalidRequest("the token parameter is required") }
        return token
    }
}
