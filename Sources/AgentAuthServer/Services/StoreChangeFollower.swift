import AgentAuthCore
import ServiceLifecycle

/// Refreshes this node the moment another node reports a change (PostgreSQL LISTEN/NOTIFY):
/// revocations are synced, signing keys reloaded (a rotation's feed events do that through the
/// sync). Polling continues besides, so a lost notification only delays, never hides, a change.
struct StoreChangeFollower: Service {
    let notifier: any StoreChangeNotifier
    let revocationSync: RevocationSync
    let keyRing: SigningKeyRing

    func run() async throws {
        for await change in notifier.changes().cancelOnGracefulShutdown() {
            switch change {
            case .revocation, .signingKey:
                try? await revocationSync.sync()
            case .credentials:
                // Nothing to sync: the store's change count moved, and the token endpoint's cache follows it.
                break
            case .resync:
                try? await revocationSync.sync()
                try? await keyRing.reload()
            }
        }
    }
}
