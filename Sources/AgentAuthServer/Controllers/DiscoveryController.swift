import AgentAuthCore
import AgentAuthHTTP
import Foundation
import Hummingbird

/// `GET /.well-known/jwks.json` (RFC 7517 §5, public members only) and
/// `GET /.well-known/oauth-authorization-server` (RFC 8414), listing only what is implemented.
struct DiscoveryController {
    /// The issuer URL, from which every endpoint's URL is made.
    let issuer: String
    let keyRing: SigningKeyRing

    func addRoutes(to router: Router<AgentAuthRequestContext>) {
        router.get(".well-known/jwks.json") { request, context -> Response in
            let keys = try await keyRing.publishedJWKs()
            var response = try context.responseEncoder.encode(["keys": keys], from: request, context: context)
            // Short: verifiers should see a rotation within a minute even without a kid miss.
            response.headers[.cacheControl] = "public, max-age=60"
            return response
        }
        router.get(".well-known/oauth-authorization-server") { request, context -> Response in
            var response = try context.responseEncoder.encode(metadata, from: request, context: context)
            response.headers[.cacheControl] = "public, max-age=300"
            return response
        }
    }

    var metadata: AuthorizationServerMetadata {
        let authMethods = ClientAuthMethod.allCases.map(\.rawValue)
        return AuthorizationServerMetadata(
            issuer: issuer,
            tokenEndpoint: ServerConfiguration.tokenEndpoint(issuer: issuer),
            jwksURI: issuer + "/.well-known/jwks.json",
            introspectionEndpoint: issuer + "/oauth/introspect",
            revocationEndpoint: issuer + "/oauth/revoke",
            grantTypesSupported: TokenController.supportedGrants.map(\.rawValue).sorted(),
            responseTypesSupported: [],
            tokenEndpointAuthMethodsSupported: authMethods,
            tokenEndpointAuthSigningAlgValuesSupported: ClientAuthenticator.assertionAlgorithms.sorted(),
            introspectionEndpointAuthMethodsSupported: authMethods,
            introspectionEndpointAuthSigningAlgValuesSupported: ClientAuthenticator.assertionAlgorithms.sorted(),
            revocationEndpointAuthMethodsSupported: authMethods,
            revocationEndpointAuthSigningAlgValuesSupported: ClientAuthenticator.assertionAlgorithms.sorted()
        )
    }
}

/// RFC 8414 §2.
struct AuthorizationServerMetadata: Encodable {
    let issuer: String
    let tokenEndpoint: String
    let jwksURI: String
    let introspectionEndpoint: String
    let revocationEndpoint: String
    let grantTypesSupported: [String]
    /// Required by RFC 8414; empty because there is no authorization endpoint.
    let responseTypesSupported: [String]
    let tokenEndpointAuthMethodsSupported: [String]
    let tokenEndpointAuthSigningAlgValuesSupported: [String]
    let introspectionEndpointAuthMethodsSupported: [String]
    let introspectionEndpointAuthSigningAlgValuesSupported: [String]
    let revocationEndpointAuthMethodsSupported: [String]
    let revocationEndpointAuthSigningAlgValuesSupported: [String]

    enum CodingKeys: String, CodingKey {
        case issuer
        case tokenEndpoint = "token_endpoint"
        case jwksURI = "jwks_uri"
        case introspectionEndpoint = "introspection_endpoint"
        case revocationEndpoint = "revocation_endpoint"
        case revocationEndpointAuthMethodsSupported = "revocation_endpoint_auth_methods_supported"
        case revocationEndpointAuthSigningAlgValuesSupported = "revocation_endpoint_auth_signing_alg_values_supported"
        case grantTypesSupported = "grant_types_supported"
        case responseTypesSupported = "response_types_supported"
        case tokenEndpointAuthMethodsSupported = "token_endpoint_auth_methods_supported"
        case tokenEndpointAuthSigningAlgValuesSupported = "token_endpoint_auth_signing_alg_values_supported"
        case introspectionEndpointAuthMethodsSupported = "introspection_endpoint_auth_methods_supported"
        case introspectionEndpointAuthSigningAlgValuesSupported = "introspection_endpoint_auth_signing_alg_values_supported"
    }
}
