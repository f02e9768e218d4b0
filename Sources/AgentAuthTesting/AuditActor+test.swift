public import AgentAuthCore

extension AuditActor {
    /// The actor of admin changes that tests make directly through the administration services,
    /// under a chain key of its own (these tests don't verify the chain; those that do make their
    /// actor from the store's master key).
    public static let test = AuditActor(via: "test", chainKey: AuditChainKey(masterKey: MasterKey.generate().key))
}
