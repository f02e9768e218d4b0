/// A store that can tell, synchronously and without reading a record, whether anything it holds
/// may have changed since an earlier moment: the signal that lets the token endpoint keep the
/// clients and agents it has read (`ClientAgentCache`) and still see every change on the very
/// next request.
///
/// SQLite answers with `PRAGMA data_version` on a connection of its own, which moves whenever any
/// other connection (this process's or another's, such as the `agentauth` CLI on the same file)
/// has committed. PostgreSQL answers with a counter that moves on every notification of the
/// change feed (LISTEN/NOTIFY) and after each of this node's own write transactions, and answers
/// `nil` while the listening connection is down, when changes of other nodes would go unseen.
public protocol StoreChangeCounter: Sendable {
    /// A value that differs from every earlier answer once a change may have been committed
    /// since; equal answers mean nothing changed in between. `nil` when the store can't tell now:
    /// then nothing read from it may be kept.
    func changeCount() -> UInt64?
}
