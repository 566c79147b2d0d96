import ArgumentParser
import Pipeline

/// `git2kv policy`: the Consul ACL policies each mapping needs.
struct PolicyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "policy",
        abstract: "Print, per mapping, a Consul ACL policy for its writer and a read-only one for renderers (HCL and JSON)."
    )

    @OptionGroup var options: DaemonConfigOption

    func run() throws {
        let config = options.load()
        for policy in ACLPolicy.policies(for: config) {
            Output.line("# \(policy.name) (\(policy.access == .write ? "git2kv serve/sync for this mapping" : "git2kv render on nodes"))")
            Output.line("## HCL")
            Output.line(policy.hcl)
            Output.line("## JSON")
            Output.line(policy.json)
            Output.line("")
        }
    }
}
