import ArgumentParser
import CommandSupport
import NodeCommands

@main
struct Git2KV: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "git2kv",
        abstract: "Git as the source of truth for configuration in Consul or etcd.",
        version: BuildVersion.text,
        subcommands: [
            SyncCommand.self, ValidateCommand.self, StatusCommand.self, HistoryCommand.self, PolicyCommand.self, KVServerCommand.self,
            InspectCommand.self, FreezeCommand.self, UnfreezeCommand.self, RollbackCommand.self, ServeCommand.self,
            RenderCommand.self, HostsCommand.self, PublishCommand.self, DemoCommand.self, FetchWorkerCommand.self,
        ]
    )
}
