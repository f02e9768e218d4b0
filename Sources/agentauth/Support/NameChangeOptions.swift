import AgentAuthCore
import ArgumentParser

/// `--name NAME | --no-name`: a change of a key's or client's name (neither: unchanged).
struct NameChangeOptions: ParsableArguments {
    @Option(help: "A new name.") var name: String?
    @Flag(help: "Remove the name.") var noName = false

    func validate() throws {
        if name != nil, noName { throw ValidationError("use one of --name, --no-name") }
    }

    var patch: FieldPatch<String> {
        if noName { return .removed }
        return name.map { .set($0) } ?? .unchanged
    }
}
