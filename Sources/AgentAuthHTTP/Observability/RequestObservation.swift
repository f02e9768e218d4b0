import Synchronization

/// What the request's log line learns while the request runs but cannot read from the request
/// context afterwards (an inner middleware changes its own copy): the authenticated agent.
/// `RequestObservationMiddleware` opens one per request; authenticators note the agent in it.
public final class RequestObservation: Sendable {
    /// The observation of the request this task serves, if it is observed.
    @TaskLocal public static var current: RequestObservation?

    private let agent = Mutex<String?>(nil)

    public init() {}

    /// The agent the request authenticated as, if any.
    public var agentID: String? { agent.withLock { $0 } }

    /// Notes the authenticated agent in the current request's observation, if there is one.
    public static func noteAgent(_ agentID: String) {
        current?.agent.withLock { $0 = agentID }
    }
}
