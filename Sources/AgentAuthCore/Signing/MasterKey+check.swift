extension MasterKey {
    /// Makes sure this is the master key the store's signing keys were sealed under, by opening
    /// the newest one (AES-GCM authenticates, so a wrong key can't open it). Every command checks
    /// this before it writes: a change audited under the wrong key would make `audit verify` report
    /// tampering forever. A store without signing keys (not yet initialised) has nothing to check.
    /// - Throws: `MasterKeyError.wrongKey`, or the store's error.
    public func check(against store: any SigningKeyStore) async throws {
        guard let newest = try await store.signingKeys().max(by: { $0.createdAt < $1.createdAt }) else { return }
        do {
            _ = try await SigningKeyMaterial.open(newest, masterKey: self)
        } catch is MasterKeyError {
            throw MasterKeyError.wrongKey
        }
    }
}
