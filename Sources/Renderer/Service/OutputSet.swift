
/// A loaded configuration's outputs with their templates parsed (a template that fails to
/// parse fails only its own outputs, with file and line).
public struct OutputSet: Sendable {
    public let config: RendererConfig
    let templates: [String: Result<OutputTemplate, RenderError>]
    let facts: NodeFacts

    public init(config: RendererConfig) {
        self.config = config
        var templates: [String: Result<OutputTemplate, RenderError>] = [:]
        for output in config.outputs {
            guard case .template(let path) = output.content, templates[path] == nil else { continue }
            templates[path] = Result { () throws(RenderError) in try OutputTemplate.load(path: path) }
        }
        self.templates = templates
        self.facts = NodeFacts.current(allowlist: config.environmentAllowlist)
    }

    /// Removes staged files a killed renderer left next to the destinations (not in a dry run,
    /// which touches nothing).
    func removeStagedLeftovers() {
        for output in config.outputs { StagedFile.removeLeftovers(for: output.destination) }
    }

    /// Problems found while loading (templates that cannot be used).
    public var loadErrors: [RenderError] {
        templates.values.compactMap { if case .failure(let error) = $0 { error } else { nil } }
    }

    func pass(dryRun: Bool, splay: SplayWait = .none) -> RenderPass {
        RenderPass(outputs: config.outputs, templates: templates, facts: facts, stateDirectory: config.stateDirectory, dryRun: dryRun, splay: splay)
    }

    func destinations(of bundles: Set<String>) -> Set<String> {
        Set(config.outputs.filter { bundles.contains($0.bundle) }.map(\.destination))
    }
}
