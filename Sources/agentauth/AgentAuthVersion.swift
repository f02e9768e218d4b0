/// The version `agentauth --version` prints. The one place it is kept: a release changes it in
/// the commit it tags `vX.Y.Z` (docs/development.md, "Releasing").
enum AgentAuthVersion {
    static let current = "0.2.0"
}
