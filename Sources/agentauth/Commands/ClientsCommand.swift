import AgentAuthCore
import ArgumentParser
import Foundation

/// `agentauth clients create|list|show|update|disable|enable|delete|rotate-secret`, working on the
/// database directly.
struct ClientsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "clients",
        abstract: "Manage OAuth clients.",
        subcommands: [Create.self, List.self, Show.self, Update.self, Disable.self, Enable.self, Delete.self, RotateSecret.self, RevokeTokens.self]
    )

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Register an OAuth client for an agent; the secret is printed once.")
        @OptionGroup var options: ChangeOptions
        @Argument(help: "Agent id (agt_…).") var agentID: String
        @Option(name: .customLong("scope"), help: "An allowed scope; repeat, or give a space-separated list.") var scopes: [String] = []
        @Option(name: .customLong("audience"), help: "An allowed audience; repeat for several (default: the server's default audience).")
        var audiences: [String] = []
        @Option(help: "Client id (default: generated cli_…).") var clientID: String?
        @Option(help: "Access-token lifetime in seconds (default 1800).") var tokenTTL: Int?
        @Option(help: "client_secret_basic (default), client_secret_post or private_key_jwt.") var authMethod: String?
        @Option(name: .customLong("grant-type"), help: "An allowed grant type; repeat (default: all).") var grantTypes: [String] = []
        @Option(help: "File with the client's public JWKS (for private_key_jwt).") var jwksFile: String?
        @Option(help: "Default audience for this client when --audience is not given.") var defaultAudience = "agentauth"
        @Option(help: "A name for people (RFC 7591 client_name).") var name: String?
        @Option(help: "A rate-limit tier for the client (a defined tier, or unlimited).") var rateLimit: String?

        func run() async throws {
            var jwks: String?
            if let jwksFile {
                guard let data = FileManager.default.contents(atPath: jwksFile) else { throw CLIError("cannot read \(jwksFile)") }
                jwks = String(decoding: data, as: UTF8.self)
            }
            let request = ClientRequest(
                clientID: clientID,
                scope: scopes.isEmpty ? nil : scopes.joined(separator: " "),
                audiences: audiences.isEmpty ? nil : audiences,
                tokenTTL: tokenTTL,
                grantTypes: grantTypes.isEmpty ? nil : grantTypes,
                authMethod: authMethod,
                jwks: jwks,
                name: name,
                rateLimit: rateLimit
            )
            let issued = try await options.change { session in
                try await session.clientAdministration(defaultAudience: defaultAudience).createClient(agentID: agentID, request, by: session.actor)
            }
            try Output.client(issued.client, secret: issued.secret, json: options.output.json)
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List an agent's clients (never the secrets).")
        @OptionGroup var options: ReadOptions
        @Argument(help: "Agent id (agt_…).") var agentID: String

        func run() async throws {
            try Output.clients(
                try await options.read { try await ClientAdministration(store: $0).clients(agentID: agentID) },
                json: options.output.json
            )
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one client.")
        @OptionGroup var options: ReadOptions
        @Argument(help: "Client id.") var clientID: String

        func run() async throws {
            let client = try await options.read { try await ClientAdministration(store: $0).client(id: clientID) }
            try Output.client(client, secret: nil, json: options.output.json)
        }
    }

    struct Update: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Change a client's name, scope (narrowing only) or rate-limit tier; what is not given is kept."
        )
        @OptionGroup var options: ChangeOptions
        @Argument(help: "Client id.") var clientID: String
        @OptionGroup var name: NameChangeOptions
        @Option(name: .customLong("scope"), help: "Keep only these scopes (a subset of the client's); repeat, or give a space-separated list.")
        var scopes: [String] = []
        @OptionGroup var rateLimit: RateLimitChangeOptions

        func run() async throws {
            let update = ClientUpdate(
                name: name.patch,
                scope: scopes.isEmpty ? nil : scopes.joined(separator: " "),
                rateLimit: rateLimit.patch
            )
            let client = try await options.change { session in
                try await session.clientAdministration().updateClient(id: clientID, update, by: session.actor)
            }
            try Output.client(client, secret: nil, json: options.output.json)
        }
    }

    struct Disable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Disable a client: it gets invalid_client, and every token it was issued until now is refused."
        )
        @OptionGroup var options: ChangeOptions
        @OptionGroup var confirm: ConfirmOptions
        @Argument(help: "Client id.") var clientID: String

        func run() async throws {
            let (client, propagation) = try await confirm.change(options) { session in
                try await session.clientAdministration().setClientStatus(id: clientID, .disabled, by: session.actor)
            }
            try Output.client(client, secret: nil, propagation: propagation, json: options.output.json)
        }
    }

    struct Enable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Enable a disabled client (its tokens from before stay refused).")
        @OptionGroup var options: ChangeOptions
        @Argument(help: "Client id.") var clientID: String

        func run() async throws {
            let client = try await options.change { session in
                try await session.clientAdministration().setClientStatus(id: clientID, .active, by: session.actor)
            }
            try Output.client(client, secret: nil, json: options.output.json)
        }
    }

    struct RevokeTokens: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "revoke-tokens",
            abstract: "Revoke every token a client was issued until now (the client can get new ones); waits for the verifiers to acknowledge it."
        )
        @OptionGroup var options: ChangeOptions
        @OptionGroup var confirm: ConfirmOptions
        @Argument(help: "Client id.") var clientID: String

        func run() async throws {
            let (client, propagation) = try await confirm.change(options) { session in
                try await session.clientAdministration().revokeTokens(clientID: clientID, by: session.actor)
            }
            try Output.client(client, secret: nil, propagation: propagation, json: options.output.json)
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a client; every token it was issued is refused.")
        @OptionGroup var options: ChangeOptions
        @OptionGroup var confirm: ConfirmOptions
        @Argument(help: "Client id.") var clientID: String

        func run() async throws {
            // Its tokens are revoked: done once the verifiers know.
            _ = try await confirm.change(options) { session in
                try await session.clientAdministration().deleteClient(id: clientID, by: session.actor)
            }
            try Output.deleted(clientID, what: "client", json: options.output.json)
        }
    }

    struct RotateSecret: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rotate-secret",
            abstract: "Give a client a new secret; the old one works for the grace period."
        )
        @OptionGroup var options: ChangeOptions
        @Argument(help: "Client id.") var clientID: String
        @Option(help: "Seconds the old secret keeps working (0: stops at once).") var graceSeconds = 0

        func run() async throws {
            let issued = try await options.change { session in
                try await session.clientAdministration().rotateSecret(clientID: clientID, graceSeconds: graceSeconds, by: session.actor)
            }
            try Output.client(issued.client, secret: issued.secret, json: options.output.json)
        }
    }
}
