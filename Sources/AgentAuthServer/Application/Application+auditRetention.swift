import AgentAuthCore
import Foundation
import Logging
import ServiceLifecycle

/// Removes audit events older than `days`, once as the server starts and then hourly: at 50
/// tokens a second the log grows by gigabytes a day. Every node may run it; the store
/// serialises removals with appends, and a node that finds nothing left to remove writes nothing.
func auditRetentionService(days: Int, components: ServerComponents, logger: Logger) -> any Service {
    let retention = AuditRetention(store: components.store, key: components.chainKey, now: components.now)
    return PeriodicService(name: "audit retention", interval: .seconds(3600), logger: logger, runsAtStart: true) { final in
        // Not at shutdown: a large backlog would hold the process back from exiting.
        guard !final else { return }
        let cut = components.now().addingTimeInterval(-Double(days) * 86_400)
        let removed = try await retention.prune(before: cut, details: ["via": "retention", "retention_days": String(days)])
        if removed > 0 {
            logger.info("audit retention removed old events", metadata: ["count": "\(removed)", "before": "\(cut.formatted(.iso8601))"])
        }
    }
}
