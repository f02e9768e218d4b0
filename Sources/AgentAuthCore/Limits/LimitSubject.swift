/// Who a request is counted against: an agent and one of its credentials.
public struct LimitSubject: Hashable, Sendable {
    public enum Credential: Hashable, Sendable {
        case apiKey(String)
        case client(String)

        /// The key or client id, as usage reports name it.
        public var id: String {
            switch self {
            case .apiKey(let id), .client(let id): id
            }
        }
    }

    public var agentID: String
    public var credential: Credential

    public init(agentID: String, credential: Credential) {
        self.agentID = agentID
        self.credential = credential
    }
}
