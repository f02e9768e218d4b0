public import Hummingbird

extension RouteCollection {
    /// Answers every other common method on `path` with 405 and `Allow` (SECURITY-CASES 9:
    /// a GET to an OAuth endpoint gets a clear JSON error, not a 404).
    public func refuseMethods(except allowed: HTTPRequest.Method, on path: RouterPath) {
        for method in [HTTPRequest.Method.get, .post, .put, .delete, .patch] where method != allowed {
            on(path, method: method) { _, _ -> Response in throw OAuthError.methodNotAllowed(allow: allowed.rawValue) }
        }
    }
}
