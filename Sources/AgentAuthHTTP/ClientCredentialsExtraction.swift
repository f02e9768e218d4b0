public import AgentAuthCore
import Foundation
public import Hummingbird

/// Reads client credentials from a request to an OAuth endpoint (RFC 6749 §2.3.1, RFC 7523
/// §2.2): HTTP Basic with form-urlencoded id and secret, or `client_id`/`client_secret` in the
/// form, or `client_assertion`. More than one method in one request → `invalid_request`.
public enum ClientCredentialsExtraction {
    /// - Returns: `nil` when the request carries no client credentials at all.
    public static func credentials(from request: Request, form: FormBody) throws -> ClientCredentials? {
        let basic = try basicCredentials(request.headers)
        let secret = form["client_secret"]
        let assertion = form["client_assertion"]
        let methods = [basic != nil, secret != nil, assertion != nil].filter { $0 }.count
        guard methods <= 1 else {
            throw OAuthProtocolError.invalidRequest("use exactly one client authentication method")
        }
        if let basic {
            if let id = form["client_id"], id != basic.clientID {
                throw OAuthProtocolError.invalidRequest("client_id in the body differs from the Basic credentials")
            }
            return .basic(clientID: basic.clientID, secret: basic.secret)
        }
        if let secret {
            guard let id = form["client_id"], !id.isEmpty else { throw OAuthProtocolError.invalidRequest("client_secret without client_id") }
            return .post(clientID: id, secret: secret)
        }
        if let assertion {
            guard form["client_assertion_type"] == ClientCredentials.assertionType else {
                throw OAuthProtocolError.invalidRequest("client_assertion_type must be \(ClientCredentials.assertionType)")
            }
            return .assertion(jwt: assertion, clientID: form["client_id"])
        }
        if form["client_assertion_type"] != nil { throw OAuthProtocolError.invalidRequest("client_assertion_type without client_assertion") }
        return nil
    }

    /// `Authorization: Basic base64(urlencode(id) ":" urlencode(secret))`. Another scheme is not
    /// client authentication (`nil`); a Basic value that does not decode → `invalid_request`.
    static func basicCredentials(_ headers: HTTPFields) throws -> (clientID: String, secret: String)? {
        let values = headers[values: .authorization]
        guard !values.isEmpty else { return nil }
        guard values.count == 1 else { throw OAuthProtocolError.invalidRequest("repeated Authorization header") }
        let value = values[0]
        guard value.count > 6, value.prefix(6).lowercased() == "basic " else { return nil }
        guard let data = Data(base64Encoded: String(value.dropFirst(6))), let decoded = String(data: data, encoding: .utf8),
            let colon = decoded.firstIndex(of: ":")
        else {
            throw OAuthProtocolError.invalidRequest("malformed Basic credentials")
        }
        do {
            let id = try FormBody.decode(Array(decoded[..<colon].utf8)[...])
            let secret = try FormBody.decode(Array(decoded[decoded.index(after: colon)...].utf8)[...])
            guard !id.isEmpty else { throw OAuthProtocolError.invalidRequest("empty client id") }
            return (id, secret)
        } catch {
            throw OAuthProtocolError.invalidRequest("Basic credentials must be form-urlencoded (RFC 6749 §2.3.1)")
        }
    }
}
