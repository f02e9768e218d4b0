import AgentAuthHTTP
import Hummingbird

extension RouteCollection {
    /// `POST path`, and 405 with `Allow: POST` for the other methods: the OAuth endpoints.
    func postOnly(_ path: RouterPath, use handler: @escaping @Sendable (Request, Context) async throws -> some ResponseGenerator) -> Self {
        post(path, use: handler)
        refuseMethods(except: .post, on: path)
        return self
    }
}
