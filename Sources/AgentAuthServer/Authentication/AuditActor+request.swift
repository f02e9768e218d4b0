import AgentAuthCore
import AgentAuthHTTP
import Hummingbird

extension AuditActor {
    /// The caller of a request as the actor of the change it makes (`via`: `api`, or the OAuth
    /// endpoint's name).
    init(_ context: AgentAuthRequestContext, via: String = "api", chainKey: AuditChainKey) {
        self.init(
            agentID: context.identity?.agentID,
            credentialID: context.identity?.credentialID,
            via: via,
            clientAddress: context.clientAddress,
            requestID: context.id,
            chainKey: chainKey
        )
    }
}
