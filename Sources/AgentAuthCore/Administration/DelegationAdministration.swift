public import Foundation

/// Who may act for an agent in token exchange (its `may_act` policy), shared by the admin API
/// and the CLI; a change is stored with its audit event.
public struct DelegationAdministration: Sendable {
    public let store: any AgentAuthStore
    let now: @Sendable () -> Date

    public init(store: any AgentAuthStore, now: @escaping @Sendable () -> Date = Date.init) {
        self.store = store
        self.now = now
    }

    var agents: AgentAdministration { AgentAdministration(store: store, now: now) }

    /// The agents that may act for `agentID`, or `nil` when any may.
    public func policy(agentID: String) async throws -> [String]? {
        let agent = try await agents.agent(id: agentID)
        return try await store.delegationPolicy(agentID: agent.id)
    }

    /// Which agents may act for `agentID` in token exchange; `nil` allows any. Every listed id
    /// must be an existing agent.
    public func setDelegationPolicy(agentID: String, mayAct: [String]?, by actor: AuditActor) async throws -> [String]? {
        _ = try await agents.agent(id: agentID)
        var unique: [String]?
        if let mayAct {
            guard mayAct.count <= 1000 else { throw AdministrationError.invalidRequest("may_act lists at most 1000 agents") }
            var seen: [String] = []
            for id in mayAct where !seen.contains(id) {
                guard Identifier.isValid(id, prefix: Identifier.agentPrefix), try await store.agent(id: id) != nil else {
                    throw AdministrationError.invalidRequest("may_act names an unknown agent")
                }
                seen.append(id)
            }
            unique = seen
        }
        let audit = actor.record(
            .delegationPolicySet,
            agentID: agentID,
            credentialID: nil,
            details: ["may_act": unique?.joined(separator: " ") ?? "*"],
            at: now()
        )
        guard try await store.setDelegationPolicy(agentID: agentID, mayAct: unique, audit: audit) else {
            throw AdministrationError.notFound("no such agent")
        }
        return unique
    }
}
