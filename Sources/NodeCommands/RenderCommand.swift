package import ArgumentParser
import CommandSupport
import Foundation
import KV
import Renderer
import ConfigParsing

/// `git2kv render`: the node side. Watches bundles and keeps files rendered from them.
package struct RenderCommand: AsyncParsableCommand {
    package static let configuration = CommandConfiguration(
        commandName: "render",
        abstract: "Watch bundles in KV and keep files rendered from them: verified, debounced, delivered atomically, commands run once per change.",
        discussion: "SIGHUP reloads the configuration (a bad file is refused and the running one stays); SIGTERM stops after the running delivery."
    )

    @Option(name: .long, help: "The renderer's YAML configuration.")
    var config: String

    @Flag(help: "Render every output once and exit; non-zero when anything failed.")
    var once = false

    @Flag(help: "Print what would change (a diff) and which commands would run; write and run nothing. Exits 0 when nothing would change, 2 when something would, 1 on an error.")
    var dryRun = false

    @Option(help: "Serve /metrics and /health on HOST:PORT (overrides listen in the configuration).")
    var listen: String?

    @OptionGroup var logging: LogOptions

    package init() {}

    package func run() async throws {
        var loaded: RendererConfig
        do {
            loaded = try RendererConfig.load(file: config)
        } catch {
            Output.exit(error.description)
        }
        if let listen { loaded.listen = listen }
        if once || dryRun { await renderOnce(loaded) }
        let logger = logging.bootstrap(label: "git2kv.render")
        do {
            let outputs = loaded.outputs.count
            let bundles = loaded.bundleKeys.count
            let address = loaded.kv.address
            try await RendererRunner(config: loaded, logger: logger).run(
                handleSignals: true,
                onStarted: { Output.line("git2kv render watching \(bundles) bundles for \(outputs) outputs at \(address)") },
                onListening: { port in Output.line("git2kv render serving /metrics and /health on port \(port)") })
        } catch {
            Output.exit("error: \(error)")
        }
    }

    private func renderOnce(_ loaded: RendererConfig) async -> Never {
        let outputs = OutputSet(config: loaded)
        let store: any KVStore
        do {
            store = try KVConnection.open(loaded.kv, token: nil)
        } catch {
            Output.exit("error: \(error)")
        }
        let report = await RenderOnce.run(outputs, store: store, dryRun: dryRun, logger: logging.bootstrap(label: "git2kv.render"))
        for output in report.outputs {
            // A published bundle has no commit (the bundle alone is named); a git commit is
            // shortened, a hosts generation is not.
            let from = output.commit.map { commit in
                commit.isEmpty ? " (\(output.bundle))" : " (\(output.bundle) @ \(commit.count == 40 ? String(commit.prefix(12)) : commit))"
            } ?? ""
            switch output.status {
            case .unchanged: Output.line("unchanged \(output.destination)\(from)")
            case .written(let inPlace): Output.line("written \(output.destination)\(from)\(inPlace ? " in place (the destination cannot be renamed over)" : "")")
            case .wouldChange(let diff): Output.line("would change \(output.destination)\(from)\n\(diff)")
            case .failed(let error): Output.error("failed \(output.destination): \(error.message)")
            }
        }
        for command in report.commands {
            let line = command.argv.joined(separator: " ")
            if dryRun {
                Output.line("would run \(line)")
            } else if let error = command.error {
                Output.error("failed command: \(error.message)")
            } else {
                Output.line("ran \(line)")
            }
        }
        Foundation.exit(report.exitStatus(dryRun: dryRun))
    }
}
