import BundleFormat
import Foundation

/// One render of a set of outputs: content from verified bundles, delivered atomically, then
/// each distinct command once for everything it stands for. Nothing changes for bytes already
/// in place, and the state file remembers what was delivered and which commands are owed.
struct RenderPass {
    let outputs: [OutputConfig]
    let templates: [String: Result<OutputTemplate, RenderError>]
    let facts: NodeFacts
    let stateDirectory: String
    let dryRun: Bool
    var splay = SplayWait.none

    func run(bundles: [String: Result<VerifiedBundle, RenderError>], only destinations: Set<String>?, state: inout RenderState) async -> RenderReport {
        var report = RenderReport()
        let before = state
        for output in outputs where destinations?.contains(output.destination) ?? true {
            let status: RenderReport.Status
            let bundle = bundles[output.bundle] ?? .failure(RenderError(.bundle, "bundle \(output.bundle) has not been read yet"))
            let commit = try? bundle.get().bundle.commit.id
            do throws(RenderError) {
                status = try await render(output, bundle: bundle.get(), state: &state)
            } catch {
                status = .failed(error)
                if !dryRun { record(error, for: output, commit: commit, in: &state) }
            }
            report.outputs.append(RenderReport.Output(destination: output.destination, bundle: output.bundle, commit: commit, status: status))
        }
        report.commands = await runCommands(report: report, state: &state)
        // Durable when a command stays owed, so a crash does not forget that it failed.
        if state != before { save(state, durable: !state.failedCommands.isEmpty, into: &report) }
        return report
    }

    private func render(_ output: OutputConfig, bundle verified: VerifiedBundle, state: inout RenderState) async throws(RenderError) -> RenderReport.Status {
        let template = if case .template(let path) = output.content { templates[path] } else { Result<OutputTemplate, RenderError>?.none }
        let bytes = try OutputContent.make(for: output, from: verified, template: template, facts: facts)
        if dryRun { return Self.preview(bytes, for: output) }
        var record = state.outputs[output.destination] ?? RenderState.Output(bundle: output.bundle, commandPending: false)
        record.bundle = output.bundle
        record.commit = verified.bundle.commit.id
        record.digest = SHA256Hex.of(bytes)
        record.lastError = nil
        record.lastErrorAt = nil
        record.lastErrorKind = nil
        record.failedCommit = nil
        record.canary = verified.key != output.bundle ? true : nil
        var owed = state
        let outcome = try await FileDelivery.deliver(bytes, for: output) { () throws(RenderError) in
            guard output.command != nil else { return }
            var pending = record
            pending.commandPending = true
            owed.outputs[output.destination] = pending
            try owed.save(to: stateDirectory, durable: true)
        }
        switch outcome {
        case .written:
            record.deliveredAt = Date().timeIntervalSince1970
            record.commandPending = output.command != nil
        case .unchanged:
            // Already in place (delivered by an earlier run or by hand): adopt it, owe nothing new.
            record.deliveredAt = record.deliveredAt ?? Date().timeIntervalSince1970
        }
        state.outputs[output.destination] = record
        switch outcome {
        case .unchanged: return .unchanged
        case .written(let inPlace): return .written(inPlace: inPlace)
        }
    }

    private static func preview(_ bytes: [UInt8], for output: OutputConfig) -> RenderReport.Status {
        let existing = FileDelivery.Existing.read(output.destination)
        let modeChanges = output.mode.map { existing != nil && mode_t($0) != existing?.mode } ?? false
        if let existing, existing.content == bytes, !modeChanges { return .unchanged }
        let old = existing.map { String(decoding: $0.content, as: UTF8.self) } ?? ""
        var diff = LineDiff.render(
            old: old, new: String(decoding: bytes, as: UTF8.self),
            oldName: existing == nil ? "/dev/null" : output.destination, newName: output.destination)
        if modeChanges, let mode = output.mode { diff += "mode becomes \(String(mode, radix: 8))\n" }
        return .wouldChange(diff: diff)
    }

    /// Every distinct command owed by the outputs of this configuration, once, in config order.
    private func runCommands(report: RenderReport, state: inout RenderState) async -> [RenderReport.Command] {
        var owed: [(argv: [String], outputs: [OutputConfig])] = []
        for output in outputs {
            guard let argv = output.command else { continue }
            let pending: Bool
            if dryRun {
                pending = report.outputs.contains { if case .wouldChange = $0.status { $0.destination == output.destination } else { false } }
            } else {
                pending = state.outputs[output.destination]?.commandPending ?? false
            }
            guard pending else { continue }
            if let index = owed.firstIndex(where: { $0.argv == argv }) {
                owed[index].outputs.append(output)
            } else {
                owed.append((argv, [output]))
            }
        }
        var commands: [RenderReport.Command] = []
        for (argv, owners) in owed {
            var failure: RenderError?
            if !dryRun {
                // Stopping during the splay leaves the command owed for the next start.
                guard await splay.wait(upTo: owners.map(\.splay).max() ?? .zero) else { continue }
                let timeout = owners.map(\.commandTimeout).max() ?? .seconds(30)
                do throws(RenderError) {
                    try await CommandRunner.run(argv, timeout: timeout, what: "command", kind: .command)
                } catch {
                    failure = error
                }
                let now = Date().timeIntervalSince1970
                for owner in owners {
                    guard var record = state.outputs[owner.destination] else { continue }
                    if let failure {
                        // Still owed: retried with backoff, on the next change and after restarts.
                        record.commandFailures = (record.commandFailures ?? 0) + 1
                        record.commandError = failure.message
                        record.commandErrorAt = now
                    } else {
                        record.commandPending = false
                        record.commandFailures = nil
                        record.commandError = nil
                        record.commandErrorAt = nil
                    }
                    state.outputs[owner.destination] = record
                }
            }
            commands.append(RenderReport.Command(argv: argv, destinations: owners.map(\.destination), error: failure))
        }
        return commands
    }

    private func record(_ error: RenderError, for output: OutputConfig, commit: String?, in state: inout RenderState) {
        var record = state.outputs[output.destination] ?? RenderState.Output(bundle: output.bundle, commandPending: false)
        record.lastError = error.message
        record.lastErrorAt = Date().timeIntervalSince1970
        record.lastErrorKind = error.kind.rawValue
        record.failedCommit = commit
        state.outputs[output.destination] = record
    }

    private func save(_ state: RenderState, durable: Bool, into report: inout RenderReport) {
        guard !dryRun else { return }
        do throws(RenderError) {
            try state.save(to: stateDirectory, durable: durable)
        } catch {
            report.outputs.append(RenderReport.Output(destination: RenderState.file(in: stateDirectory), bundle: "", commit: nil, status: .failed(error)))
        }
    }
}
