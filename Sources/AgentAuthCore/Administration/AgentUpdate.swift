/// A change to an agent (`PATCH /admin/agents/{id}`, `agentauth agents update`): each field
/// absent is kept; `rateLimit` and `quota` may be removed, `name` only replaced.
public struct AgentUpdate: Sendable {
    public var name: FieldPatch<String>
    public var rateLimit: FieldPatch<String>
    public var quota: FieldPatch<Quota>

    public init(name: FieldPatch<String> = .unchanged, rateLimit: FieldPatch<String> = .unchanged, quota: FieldPatch<Quota> = .unchanged) {
        self.name = name
        self.rateLimit = rateLimit
        self.quota = quota
    }
}
