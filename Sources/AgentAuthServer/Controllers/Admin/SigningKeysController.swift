import AgentAuthCore
import AgentAuthHTTP
import Foundation
import Hummingbird

/// `/admin/signing-keys`: list the token-signing keys and rotate to a new one.
struct SigningKeysController {
    let signingKeys: SigningKeyAdministration
    /// The algorithm of a rotation that names none.
    let defaultAlgorithm: SigningAlgorithm
    /// Seconds a rotated-in key is published before it signs.
    let activationDelay: TimeInterval
    /// The feed answers verifiers at once, not at the next sync: they fetch the key while it is pending.
    let revocationSync: RevocationSync
    let chainKey: AuditChainKey
    let now: @Sendable () -> Date

    var endpoints: RouteCollection<AgentAuthRequestContext> {
        let routes = RouteCollection(context: AgentAuthRequestContext.self)
        routes.get("signing-keys", use: list)
        routes.post("signing-keys/rotate", use: rotate)
        return routes
    }

    func list(_ request: Request, context: AgentAuthRequestContext) async throws -> SigningKeyListResponse {
        SigningKeyListResponse(try await signingKeys.keys().keys, at: now())
    }

    struct RotateRequest: Decodable {
        let algorithm: SigningAlgorithm?
    }

    func rotate(_ request: Request, context: AgentAuthRequestContext) async throws -> EditedResponse<SigningKeyResponse> {
        let body = try await JSONBody.decodeIfPresent(RotateRequest.self, from: request, context: context)
        let key = try await signingKeys.rotate(
            to: body?.algorithm ?? defaultAlgorithm,
            activationDelay: activationDelay,
            by: AuditActor(context, chainKey: chainKey)
        )
        try? await revocationSync.sync()
        return EditedResponse(status: .created, response: SigningKeyResponse(key, schedule: try await signingKeys.keys().schedule, at: now()))
    }
}
