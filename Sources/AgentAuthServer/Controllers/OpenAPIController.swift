import AgentAuthHTTP
import Hummingbird

/// `GET /openapi.json`: the OpenAPI 3.1 description of this server's HTTP API (docs/openapi.json,
/// embedded at build time), without authentication: it describes the API, not its data.
struct OpenAPIController {
    func addRoutes(to router: Router<AgentAuthRequestContext>) {
        router.get("openapi.json") { _, _ -> Response in
            Response(
                status: .ok,
                headers: [.contentType: "application/json", .cacheControl: "public, max-age=300"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: OpenAPIDocument.json))
            )
        }
    }
}
