import ArgumentParser
import CommandSupport
import NodeCommands

/// The node side on its own: no git, no libgit2, no Swift runtime to install.
@main
struct Git2KVNode: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "git2kv-node",
        abstract: "git2kv's node side: render bundles into files, publish local files, generate the hosts file, inspect a bundle.",
        version: BuildVersion.text,
        subcommands: [RenderCommand.self, HostsCommand.self, PublishCommand.self, InspectCommand.self]
    )
}
