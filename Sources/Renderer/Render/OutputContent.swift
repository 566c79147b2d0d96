import BundleFormat

/// The bytes an output stands for, from its verified bundle: a rendered template or one file
/// of the bundle, after the `min_lines` guard.
enum OutputContent {
    static func make(
        for output: OutputConfig, from verified: VerifiedBundle, template: Result<OutputTemplate, RenderError>?, facts: NodeFacts
    ) throws(RenderError) -> [UInt8] {
        let bytes: [UInt8]
        switch output.content {
        case .file(let name):
            guard let file = verified.bundle.file(at: name) else {
                let names = verified.bundle.files.map(\.path).prefix(10).joined(separator: ", ")
                throw RenderError(.guardFailed, "bundle \(verified.key) has no file \(name) (it has: \(names.isEmpty ? "no files" : names))")
            }
            if let selection = output.hosts {
                guard let hosts = verified.hosts else {
                    throw RenderError(.guardFailed, "bundle \(verified.key) is not sharded hosts data, so hosts: cannot select from it (publish it with git2kv hosts, layout: sharded)")
                }
                bytes = Array(HostsText.render(hosts.entities.compactMap(selection.select), domain: hosts.domain).utf8)
            } else {
                bytes = file.content
            }
        case .template(let path):
            guard let template else { throw RenderError(.template, "template \(path) was not loaded") }
            bytes = Array(try template.get().render(TemplateData(verified, facts: facts), strict: output.strict).utf8)
        }
        if let minimum = output.minLines {
            let lines = lineCount(bytes)
            guard lines >= minimum else {
                throw RenderError(
                    .guardFailed,
                    "content for \(output.destination) has \(lines) lines, fewer than min_lines \(minimum) (commit \(verified.bundle.commit.id.prefix(12))); the old file stays")
            }
        }
        return bytes
    }

    static func lineCount(_ bytes: [UInt8]) -> Int {
        let newlines = bytes.reduce(0) { $0 + ($1 == UInt8(ascii: "\n") ? 1 : 0) }
        return newlines + (bytes.last.map { $0 == UInt8(ascii: "\n") ? 0 : 1 } ?? 0)
    }
}
