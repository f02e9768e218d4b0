/// A change to an OAuth client (`PATCH /admin/clients/{id}`, `agentauth clients update`): each
/// field absent is kept; `name` (RFC 7591 `client_name`) and `rateLimit` may be removed. `scope`
/// may only narrow what the client may be granted; tokens already issued keep their scopes until
/// they expire (disable the client to cut them off).
public struct ClientUpdate: Sendable {
    public var name: FieldPatch<String>
    /// Space-separated, a non-empty subset of the current scopes; `nil` keeps them.
    public var scope: String?
    public var rateLimit: FieldPatch<String>

    public init(name: FieldPatch<String> = .unchanged, scope: String? = nil, rateLimit: FieldPatch<String> = .unchanged) {
        self.name = name
        self.scope = scope
        self.rateLimit = rateLimit
    }
}
