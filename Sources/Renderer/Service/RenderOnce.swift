public import KV
public import Logging
import BundleFormat

/// `git2kv render --once` (and `--dry-run`): read every bundle once, render every output once.
public enum RenderOnce {
    public static func run(_ outputs: OutputSet, store: any KVStore, dryRun: Bool, logger: Logger = Logger(label: "git2kv.render")) async -> RenderReport {
        let reader = BundleReader(store: store, config: outputs.config)
        var bundles = await withTaskGroup(of: (String, Result<VerifiedBundle, RenderError>).self) { group in
            for key in outputs.config.bundleKeys {
                group.addTask { (key, await RenderError.capture { () async throws(RenderError) in try await reader.read(key) }) }
            }
            var bundles: [String: Result<VerifiedBundle, RenderError>] = [:]
            for await (key, result) in group { bundles[key] = result }
            return bundles
        }
        if outputs.config.canary {
            // A canary node renders each bundle's canary value while one exists.
            for key in outputs.config.bundleKeys {
                let canaryKey = CanaryPlacement.canaryKey(ofBundleKey: key)
                guard let entry = try? await store.get(canaryKey).value else { continue }
                bundles[key] = await RenderError.capture { () async throws(RenderError) in try await reader.verify(entry) }
            }
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
        let report = await outputs.pass(dryRun: dryRun).run(bundles: bundles, only: nil, state: &state)
        if !dryRun, outputs.config.report.enabled {
            let reporter = DeliveryReporter(config: outputs.config, store: store, logger: logger, clock: .continuous)
            await reporter.passEnded(state)
            await reporter.stop()
        }
        return report
    }
}
