import AgentAuthCore
import AgentAuthHTTP
import Hummingbird

/// `/admin/agents/{id}/keys` and `/admin/keys/{id}`: create, list, show, revoke and roll API keys.
struct APIKeysController {
    let keys: APIKeyAdministration
    /// A revocation reaches this node's deny-list and the feed's waiting verifiers, and is answered once they acknowledged it.
    let revocationSync: RevocationSync
    let chainKey: AuditChainKey

    var endpoints: RouteCollection<AgentAuthRequestContext> {
        let routes = RouteCollection(context: AgentAuthRequestContext.self)
        routes.post("agents/:agent/keys", use: create)
        routes.get("agents/:agent/keys", use: list)
        routes.get("keys/:key", use: show)
        routes.post("keys/:key/revoke", use: revoke)
        routes.post("keys/:key/roll", use: roll)
        routes.patch("keys/:key", use: update)
        return routes
    }

    struct CreateRequest: Decodable {
        let scopes: [String]
        let name: String?
        let expiresIn: Int?
        let rateLimit: String?
        let quota: Quota?

        enum CodingKeys: String, CodingKey {
            case scopes, name, quota
            case expiresIn = "expires_in"
            case rateLimit = "rate_limit"
        }
    }

    /// A PATCH body: a member absent keeps the field, `null` removes it (see `FieldPatch`);
    /// `scopes` can't be removed, only narrowed.
    struct UpdateRequest: Decodable {
        let update: APIKeyUpdate

        enum CodingKeys: String, CodingKey {
            case name, scopes, quota
            case rateLimit = "rate_limit"
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            update = APIKeyUpdate(
                name: try container.decodePatch(String.self, forKey: .name),
                scopes: try container.decodeUnlessNull([String].self, forKey: .scopes),
                rateLimit: try container.decodePatch(String.self, forKey: .rateLimit),
                quota: try container.decodePatch(Quota.self, forKey: .quota)
            )
        }
    }

    func create(_ request: Request, context: AgentAuthRequestContext) async throws -> EditedResponse<APIKeyResponse> {
        let body = try await JSONBody.decode(CreateRequest.self, from: request, context: context)
        let issued = try await keys.createAPIKey(
            agentID: try context.parameters.require("agent"),
            APIKeyRequest(scopes: body.scopes, name: body.name, expiresIn: body.expiresIn, rateLimit: body.rateLimit, quota: body.quota),
            by: AuditActor(context, chainKey: chainKey)
        )
        return EditedResponse(status: .created, response: APIKeyResponse(issued.record, plaintext: issued.plaintext))
    }

    func list(_ request: Request, context: AgentAuthRequestContext) async throws -> APIKeyListResponse {
        APIKeyListResponse(try await keys.apiKeys(agentID: try context.parameters.require("agent")))
    }

    func show(_ request: Request, context: AgentAuthRequestContext) async throws -> APIKeyResponse {
        APIKeyResponse(try await keys.apiKey(id: try context.parameters.require("key")))
    }

    func revoke(_ request: Request, context: AgentAuthRequestContext) async throws -> APIKeyResponse {
        let keyID = try context.parameters.require("key")
        if keyID == context.identity?.credentialID {
            throw OAuthError.conflict("an admin cannot revoke the key it is calling with (it would lock itself out); use the CLI")
        }
        let key = try await keys.revokeAPIKey(id: keyID, by: AuditActor(context, chainKey: chainKey))
        return APIKeyResponse(key, propagation: await revocationSync.syncAndConfirm())
    }

    /// The store's feed event drops cached results of the key everywhere (its scopes may have
    /// narrowed), and the answer waits for the verifiers as a revocation's does.
    func update(_ request: Request, context: AgentAuthRequestContext) async throws -> APIKeyResponse {
        let body = try await JSONBody.decode(UpdateRequest.self, from: request, context: context)
        let key = try await keys.updateAPIKey(id: try context.parameters.require("key"), body.update, by: AuditActor(context, chainKey: chainKey))
        // Narrowed scopes matter as much as a revocation: answered once the verifiers dropped what they cached.
        return APIKeyResponse(key, propagation: await revocationSync.syncAndConfirm())
    }

    func roll(_ request: Request, context: AgentAuthRequestContext) async throws -> EditedResponse<APIKeyResponse> {
        let body = try await JSONBody.decodeIfPresent(GracePeriodRequest.self, from: request, context: context)
        let (replacement, previous) = try await keys.rollAPIKey(
            id: try context.parameters.require("key"),
            graceSeconds: body?.graceSeconds ?? 0,
            by: AuditActor(context, chainKey: chainKey)
        )
        // The old key's feed event evicts its cached results: with no grace it must be refused on
        // the very next request, so the answer waits for the verifiers as a revocation's does.
        let propagation = await revocationSync.syncAndConfirm()
        return EditedResponse(
            status: .created,
            response: APIKeyResponse(replacement.record, plaintext: replacement.plaintext, replaces: previous, propagation: propagation)
        )
    }
}
