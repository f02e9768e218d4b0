import ArgumentParser
import Hummingbird
import Logging

/// The framework ceiling for `scripts/bench-http.sh`: a Hummingbird server that answers what the
/// example API's `/v1/conversations` answers (`{"conversations":[]}`), with no authentication.
/// Whatever the example API does per request beyond this is the cost of auth. `POST
/// /oauth/token` reads a form body and answers a JSON body of a token response's size: what the
/// framework alone costs for a request shaped like a token request (context for the auth server's
/// figures; the ratios are taken against the GET).
@main
struct HelloServer: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hello-server",
        abstract: "Answers GET /v1/conversations with the example API's JSON body, unauthenticated."
    )

    @Option(help: "Address to listen on.")
    var host: String = "127.0.0.1"

    @Option(help: "Port to listen on.")
    var port: Int = 19_090

    func run() async throws {
        var logger = Logger(label: "hello-server")
        logger.logLevel = .warning
        let router = Router()
        router.get("healthz") { _, _ in ["status": "ok"] }
        router.get("v1/conversations") { _, _ in Conversations(conversations: []) }
        router.post("oauth/token") { request, context -> TokenLike in
            let body = try await request.body.collect(upTo: context.maxUploadSize)
            return TokenLike(accessToken: String(repeating: "x", count: 420 + body.readableBytes % 2), tokenType: "Bearer", expiresIn: 1800)
        }
        let app = Application(
            router: router,
            configuration: .init(address: .hostname(host, port: port), serverName: "hello-server"),
            logger: logger
        )
        try await app.runService()
    }

    struct Conversations: ResponseEncodable {
        let conversations: [String]
    }

    struct TokenLike: ResponseEncodable {
        let accessToken: String
        let tokenType: String
        let expiresIn: Int

        enum CodingKeys: String, CodingKey {
            case accessToken = "access_token"
            case tokenType = "token_type"
            case expiresIn = "expires_in"
        }
    }
}
