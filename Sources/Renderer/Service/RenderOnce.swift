public import KV

/// `git2kv render --once` (and `--dry-run`): read every bundle once, render every output once.
public enum RenderOnce {
    public static func run(_ outputs: OutputSet, store: any KVStore, dryRun: Bool) async -> RenderReport {
        let reader = BundleReader(store: store, config: outputs.config)
        let bundles = await withTaskGroup(of: (String, Result<VerifiedBundle, RenderError>).self) { group in
            for key in outputs.config.bundleKeys {
                group.addTask { (key, await RenderError.capture { () async throws(RenderError) in try await reader.read(key) }) }
            }
            var bundles: [String: Result<VerifiedBundle, RenderError>] = [:]
            for await (key, result) in group { bundles[key] = result }
            return bundles
        }
        if !dryRun { outputs.removeStagedLeftovers() }
        var state: RenderState
        do throws(RenderError) {
            state = try RenderState.load(from: outputs.config.stateDirectory)
        } catch {
            var report = RenderReport()
            report.outputs.append(RenderReport.Output(destination: RenderState.file(in: outputs.config.stateDirectory), bundle: "", commit: nil, status: .failed(error)))
            return report
        }
        return await outputs.pass(dryRun: dryRun).run(bundles: bundles, only: nil, state: &state)
    }
}
