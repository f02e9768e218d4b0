/// A change to an API key (`PATCH /admin/keys/{id}`, `agentauth keys update`): each field absent
/// is kept; `name`, `rateLimit` and `quota` may be removed. `scopes` may only narrow the key's
/// scopes: a key never gains a scope it was not created with (make a new key for that).
public struct APIKeyUpdate: Sendable {
    public var name: FieldPatch<String>
    /// A non-empty subset of the current scopes; `nil` keeps them.
    public var scopes: [String]?
    public var rateLimit: FieldPatch<String>
    public var quota: FieldPatch<Quota>

    public init(
        name: FieldPatch<String> = .unchanged,
        scopes: [String]? = nil,
        rateLimit: FieldPatch<String> = .unchanged,
        quota: FieldPatch<Quota> = .unchanged
    ) {
        self.name = name
        self.scopes = scopes
        self.rateLimit = rateLimit
        self.quota = quota
    }
}
