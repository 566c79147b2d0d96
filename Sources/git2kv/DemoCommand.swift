import ArgumentParser
import CommandSupport
import Daemon
import Foundation
import KV
import KVServer
import Logging
import Pipeline
import Renderer

/// `git2kv demo`: the whole flow on one machine with nothing else running.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run git2kv end to end on this machine: an embedded kv-server, a local config repository, serve and render.",
        discussion: "Commit to the printed repository with git and watch the rendered file follow. Ctrl-C stops everything."
    )

    @Option(help: "Where the demo keeps its repository, state and rendered files (default: a new directory in the temp dir).")
    var directory: String?

    @Option(help: "The example to start from: a directory holding repo/ and templates/.")
    var examples = "Examples/demo"

    @Flag(help: "Show one change arriving in the rendered file, then stop (for scripts and tests).")
    var once = false

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel = "warning"

    func run() async throws {
        let logger = try LogOptions.parse(["--log-level", logLevel]).bootstrap(label: "git2kv.demo")
        let workspace: DemoWorkspace
        let kv: RunningKVServer
        do {
            workspace = try await DemoWorkspace.create(at: directory, from: examples)
            kv = try await RunningKVServer.start(KVServer(host: "127.0.0.1", port: 0, logLevel: .critical))
        } catch {
            Output.exit("error: \(error)")
        }
        let daemon: DaemonConfig
        let renderer: RendererConfig
        do {
            daemon = try DaemonConfig.load(file: try workspace.writeDaemonConfig(kvAddress: kv.address))
            renderer = try RendererConfig.load(file: try workspace.writeRendererConfig(kvAddress: kv.address))
        } catch {
            await kv.stop()
            Output.exit("error: \(error)")
        }
        Output.line("git2kv demo in \(workspace.root)")
        Output.line("  kv-server   \(kv.address) (embedded, in memory)")
        let serve = Task {
            try await DaemonServer(config: daemon, logger: logger, fetcher: .workerProcess).run(handleSignals: false) { port in
                Output.line("  serve       polling \(workspace.repositoryPath) every second; /status on http://127.0.0.1:\(port)/status")
            }
        }
        // The renderer starts once the first sync wrote the bundle, so it begins with something to render.
        let client = ConsulClient(.init(address: kv.address))
        for _ in 0..<600 where (try? await client.get("demo/apps/web").value) == nil {
            try? await Task.sleep(for: .milliseconds(100))
        }
        let render = Task { try await RendererRunner(config: renderer, logger: logger).run(handleSignals: false) }
        defer {
            serve.cancel()
            render.cancel()
        }

        guard await waitFor(seconds: 60, { workspace.renderedText("web.conf") != nil }) else {
            await stop(serve, render, kv)
            Output.exit("error: nothing was rendered within 60 s; run with --log-level info to see why")
        }
        Output.line("  render      \(workspace.rendered)/web.conf and settings.json from the bundle demo/apps/web")
        Output.line("")

        let greeting = "hello from commit \(Int.random(in: 100...999))"
        let started = ContinuousClock.now
        let commit: String
        do {
            commit = try await workspace.commitGreeting(greeting).short
        } catch {
            await stop(serve, render, kv)
            Output.exit("error: cannot commit to the demo repository: \(error)")
        }
        Output.line("Committed \(commit) \"Change the greeting to \(greeting)\" to \(workspace.repositoryPath) ...")
        guard await waitFor(seconds: 60, { workspace.renderedText("web.conf")?.contains(greeting) == true }) else {
            await stop(serve, render, kv)
            Output.exit("error: the change did not reach \(workspace.rendered)/web.conf within 60 s")
        }
        let elapsed = started.duration(to: .now)
        Output.line("... and \(workspace.rendered)/web.conf has it \(String(format: "%.1f", elapsed.inSeconds)) s later:")
        Output.line("")
        Output.line(workspace.renderedText("web.conf") ?? "")
        if !once {
            Output.line("Try a change of your own (in another terminal):")
            Output.line("  cd \(workspace.repositoryPath) && sed -i 's/\"workers\": [0-9]*/\"workers\": 8/' apps/web/settings.json && git commit -qam 'More workers'")
            Output.line("  cat \(workspace.rendered)/web.conf")
            Output.line("Ctrl-C stops the demo.")
            await StopSignals.wait()
        }
        await stop(serve, render, kv)
        Output.line("git2kv demo stopped; its files stay in \(workspace.root)")
    }

    private func waitFor(seconds: Int, _ condition: () -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + .seconds(seconds)
        while ContinuousClock.now < deadline {
            if condition() { return true }
            try? await Task.sleep(for: .milliseconds(100))
        }
        return condition()
    }

    private func stop(_ serve: Task<Void, any Error>, _ render: Task<Void, any Error>, _ kv: RunningKVServer) async {
        serve.cancel()
        render.cancel()
        _ = await serve.result
        _ = await render.result
        await kv.stop()
    }
}
