extension ScopeSet {
    /// The scopes `parse` reads, as the new scopes of a credential that has `self`: only a
    /// non-empty subset is accepted, since a credential never gains a scope after it is made.
    /// Refusals are bad requests naming `field`; `alternative` says what to do instead.
    func narrowed(by parse: () throws -> ScopeSet, field: String, alternative: String) throws -> ScopeSet {
        let scopes: ScopeSet
        do {
            scopes = try parse()
        } catch {
            throw AdministrationError.invalidRequest("\(field): \(error)")
        }
        guard isSuperset(of: scopes) else {
            throw AdministrationError.invalidRequest("\(field) may only be narrowed (a subset of the current scopes); \(alternative)")
        }
        return scopes
    }
}
