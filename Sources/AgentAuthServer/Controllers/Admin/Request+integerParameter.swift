import AgentAuthHTTP
import Hummingbird

extension Request {
    /// An integer query parameter, `nil` when absent; anything else → 400.
    func integerParameter(_ name: String) throws -> Int? {
        guard let value = uri.queryParameters[name[...]] else { return nil }
        guard let number = Int(value) else { throw OAuthError.invalidRequest("\(name) must be an integer") }
        return number
    }
}
