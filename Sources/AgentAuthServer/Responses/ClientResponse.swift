public import AgentAuthCore
import Foundation
public import Hummingbird

/// A client as the admin API shows it (RFC 7591 §3.2.1 names). `client_secret` is set only in
/// the responses that create it.
public struct ClientResponse: ResponseEncodable, Sendable {
    public let client: OAuthClient
    public let secret: String?
    /// On a revocation of its tokens: how far it reached the verifiers.
    public var propagation: RevocationPropagation?

    public init(_ client: OAuthClient, secret: String? = nil) {
        self.client = client
        self.secret = secret
    }

    enum CodingKeys: String, CodingKey {
        case clientID = "client_id"
        case clientSecret = "client_secret"
        case clientIDIssuedAt = "client_id_issued_at"
        case clientSecretExpiresAt = "client_secret_expires_at"
        case agentID = "agent_id"
        case scope
        case audience
        case tokenTTL = "token_ttl"
        case grantTypes = "grant_types"
        case authMethod = "token_endpoint_auth_method"
        case jwks
        case previousSecretExpiresAt = "previous_secret_expires_at"
        case clientName = "client_name"
        case rateLimit = "rate_limit"
        case status
        case disabledAt = "disabled_at"
        case propagation
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(client.clientID, forKey: .clientID)
        try container.encodeIfPresent(secret, forKey: .clientSecret)
        try container.encode(Int(client.createdAt.timeIntervalSince1970), forKey: .clientIDIssuedAt)
        if client.secretHash != nil {
            // RFC 7591: 0 means the secret does not expire.
            try container.encode(0, forKey: .clientSecretExpiresAt)
        }
        try container.encode(client.agentID, forKey: .agentID)
        try container.encode(client.scopes.description, forKey: .scope)
        try container.encode(client.audiences, forKey: .audience)
        try container.encode(client.tokenTTL, forKey: .tokenTTL)
        try container.encode(client.grantTypes.map(\.rawValue).sorted(), forKey: .grantTypes)
        try container.encode(client.authMethod.rawValue, forKey: .authMethod)
        try container.encode(client.name, forKey: .clientName)
        try container.encode(client.rateLimit, forKey: .rateLimit)
        try container.encode(client.status.rawValue, forKey: .status)
        try container.encode(client.disabledAt, forKey: .disabledAt)
        if let jwks = client.jwks, let object = try? JSONSerialization.jsonObject(with: Data(jwks.utf8)) as? [String: Any],
            let keys = object["keys"] as? [[String: Any]]
        {
            // Public keys only were accepted at registration; echo their string members.
            let stringKeys = keys.map { $0.compactMapValues { $0 as? String } }
            try container.encode(["keys": stringKeys], forKey: .jwks)
        }
        if secret != nil, let until = client.previousSecretExpiresAt {
            try container.encode(until, forKey: .previousSecretExpiresAt)
        }
        try container.encodeIfPresent(propagation, forKey: .propagation)
    }
}

public struct ClientListResponse: ResponseEncodable, Sendable {
    public let clients: [ClientResponse]

    public init(_ clients: [OAuthClient]) {
        self.clients = clients.map { ClientResponse($0) }
    }
}
