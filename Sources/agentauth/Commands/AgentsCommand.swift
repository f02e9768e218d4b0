import AgentAuthCore
import AgentAuthServer
import ArgumentParser

/// `agentauth agents create|list|show|update|disable|enable`, working on the database directly.
struct AgentsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agents",
        abstract: "Manage agents.",
        subcommands: [Create.self, List.self, Show.self, Update.self, Disable.self, Enable.self, Delegation.self]
    )

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create an agent.")
        @OptionGroup var options: ChangeOptions
        @Argument(help: "The agent's name.") var name: String?
        @Option(name: .customLong("name"), help: "The agent's name (instead of the argument).") var nameOption: String?
        @Option(help: "A rate-limit tier for the agent across all of its credentials (a defined tier, or unlimited).") var rateLimit: String?
        @OptionGroup var quota: QuotaOptions

        func validate() throws {
            guard (name == nil) != (nameOption == nil) else { throw ValidationError("give the name once: as an argument or with --name") }
        }

        func run() async throws {
            let quota = try self.quota.value()
            let agent = try await options.change { session in
                try await session.administration.createAgent(name: name ?? nameOption ?? "", rateLimit: rateLimit, quota: quota, by: session.actor)
            }
            try Output.agent(agent, json: options.output.json)
        }
    }

    struct Update: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Change an agent's name, rate-limit tier or quota; what is not given is kept.")
        @OptionGroup var options: ChangeOptions
        @Argument(help: "Agent id (agt_…).") var id: String
        @Option(help: "A new name.") var name: String?
        @OptionGroup var rateLimit: RateLimitChangeOptions
        @OptionGroup var quota: QuotaChangeOptions

        func run() async throws {
            let update = AgentUpdate(name: name.map { .set($0) } ?? .unchanged, rateLimit: rateLimit.patch, quota: try quota.patch())
            let agent = try await options.change { session in
                try await session.administration.updateAgent(id: id, update, by: session.actor)
            }
            try Output.agent(agent, json: options.output.json)
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List agents, oldest first.")
        @OptionGroup var options: ReadOptions
        @Option(help: "At most this many (1–1000).") var limit = 1000
        @Option(help: "Skip this many.") var offset = 0

        func run() async throws {
            let agents = try await options.read { try await AgentAdministration(store: $0).agents(limit: limit, offset: offset) }
            try Output.agents(agents, json: options.output.json)
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one agent.")
        @OptionGroup var options: ReadOptions
        @Argument(help: "Agent id (agt_…).") var id: String

        func run() async throws {
            try Output.agent(try await options.read { try await AgentAdministration(store: $0).agent(id: id) }, json: options.output.json)
        }
    }

    struct Disable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Disable an agent: all of its credentials stop working at once; waits for the verifiers to acknowledge it."
        )
        @OptionGroup var options: ChangeOptions
        @OptionGroup var confirm: ConfirmOptions
        @Argument(help: "Agent id (agt_…).") var id: String

        func run() async throws {
            let (agent, propagation) = try await confirm.change(options) { session in
                try await session.administration.setStatus(agentID: id, .disabled, by: session.actor)
            }
            try Output.agent(agent, propagation: propagation, json: options.output.json)
        }
    }

    struct Enable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Enable a disabled agent.")
        @OptionGroup var options: ChangeOptions
        @Argument(help: "Agent id (agt_…).") var id: String

        func run() async throws {
            let agent = try await options.change { session in
                try await session.administration.setStatus(agentID: id, .active, by: session.actor)
            }
            try Output.agent(agent, json: options.output.json)
        }
    }

    struct Delegation: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show or set which agents may act for this one in token exchange (delegation)."
        )
        @OptionGroup var options: ChangeOptions
        @Argument(help: "Agent id (agt_…).") var id: String
        @Option(name: .customLong("may-act"), help: "An agent allowed to act for this one; repeat for several.") var mayAct: [String] = []
        @Flag(help: "Allow any agent to act for this one (the default).") var anyone = false
        @Flag(help: "Allow no agent to act for this one.") var nobody = false

        func validate() throws {
            guard [!mayAct.isEmpty, anyone, nobody].filter({ $0 }).count <= 1 else {
                throw ValidationError("use one of --may-act, --anyone, --nobody")
            }
        }

        func run() async throws {
            let policy: [String]?
            if !mayAct.isEmpty || anyone || nobody {
                policy = try await options.change { session in
                    try await session.delegation.setDelegationPolicy(agentID: id, mayAct: anyone ? nil : mayAct, by: session.actor)
                }
            } else {
                policy = try await options.store.withStore { store in
                    try await store.delegationPolicy(agentID: try await AgentAdministration(store: store).agent(id: id).id)
                }
            }
            if options.output.json {
                return try Output.json(DelegationPolicyResponse(agentID: id, mayAct: policy))
            }
            print(
                policy.map { $0.isEmpty ? "No agent may act for \(id)." : "May act for \(id): " + $0.joined(separator: ", ") }
                    ?? "Any agent may act for \(id)."
            )
        }
    }
}
