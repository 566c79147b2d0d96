import ArgumentParser
import CommandSupport
import Pipeline

/// `git2kv policy`: the Consul ACL policies each mapping needs.
struct PolicyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "policy",
        abstract: "Print, per mapping, an ACL policy for its writer and a read-only one for renderers (Consul HCL and JSON, or etcdctl role grants when kv.backend is etcd)."
    )

    @OptionGroup var options: DaemonConfigOption

    func run() throws {
        let config = options.load()
        if config.kv.backend == .etcd {
            Output.line("# etcd roles and users; auth must be on (etcdctl user add root; etcdctl user grant-role root root; etcdctl auth enable)")
        }
        for policy in ACLPolicy.policies(for: config) {
            Output.line("# \(policy.name) (\(policy.access == .write ? "git2kv serve/sync for this mapping" : "git2kv render on nodes"))")
            if config.kv.backend == .etcd {
                Output.line(policy.etcdCommands)
                Output.line("")
                continue
            }
            Output.line("## HCL")
            Output.line(policy.hcl)
            Output.line("## JSON")
            Output.line(policy.json)
            Output.line("")
        }
    }
}
