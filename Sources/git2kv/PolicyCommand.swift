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

    @Option(help: "The node whose delivery-report policy to print (default: a NODE placeholder to fill in per node).")
    var node: String?

    func run() throws {
        let config = options.load()
        if config.kv.backend == .etcd {
            Output.line("# etcd roles and users; auth must be on (etcdctl user add root; etcdctl user grant-role root root; etcdctl auth enable)")
        }
        let policies = ACLPolicy.policies(for: config) + [ACLPolicy.nodeReport(config, node: node ?? ACLPolicy.nodePlaceholder)]
        for policy in policies {
            Output.line("# \(policy.name) (\(policy.role))")
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
