import BundleFormat
import Mustache
import StructuredText

/// What a template can name below a node, and why a name is absent: the strict check's view of
/// the data, the same nodes swift-mustache renders from.
protocol TemplateParent: MustacheParent {
    /// Why `name` is not here, in an operator's words (e.g. the names that are).
    func absence(of name: String) -> String
}

/// The bundle files one render reads, for `files_digest`.
final class FileReads {
    private(set) var paths: Set<String> = []
    func record(_ path: String) { paths.insert(path) }
}

/// `files`: each bundle file by its variable name (`app.json` → `app_json`).
final class FilesNode: TemplateParent {
    private let byName: [String: [FileNode]]
    private let names: [String]

    init(_ files: [FileNode]) {
        byName = Dictionary(grouping: files, by: \.variableName)
        names = files.map(\.variableName)
    }

    /// A file named here counts as read (printed whole, it is its text).
    func child(named name: String) -> Any? {
        guard let matches = byName[name], matches.count == 1 else { return nil }
        matches[0].recordRead()
        return matches[0]
    }

    func absence(of name: String) -> String {
        if let matches = byName[name], matches.count > 1 {
            return "files \(matches.map(\.path).joined(separator: " and ")) both have the name \(name); rename one of them"
        }
        return "the bundle has no file named \(name) (its files: \(Self.list(names)))"
    }

    static func list(_ names: [String]) -> String {
        guard !names.isEmpty else { return "none" }
        return names.prefix(10).joined(separator: ", ") + (names.count > 10 ? ", …" : "")
    }
}

/// One bundle file: `path`, `name`, `text`, `data` (parsed when first named), `sha256`, `size`;
/// printed whole (`{{files.motd_txt}}`) it is its text.
final class FileNode: TemplateParent, MustacheCustomRenderable {
    let path: String
    let variableName: String
    private let file: BundleFile
    private let sha256: String
    private let reads: FileReads
    private var parsed: Result<StructuredValue, StructuredError>?

    init(_ file: BundleFile, sha256: String, reads: FileReads) {
        self.file = file
        self.path = file.path
        self.sha256 = sha256
        self.reads = reads
        variableName = TemplateData.variableName(file.path)
    }

    func child(named name: String) -> Any? {
        reads.record(path)
        switch name {
        case "path": return path
        case "name": return variableName
        case "sha256": return sha256
        case "size": return file.content.count
        case "text": return file.text
        case "data": return try? data().get()
        default: return nil
        }
    }

    var renderText: String { file.text ?? "" }

    func recordRead() { reads.record(path) }

    var isNull: Bool { false }

    func absence(of name: String) -> String {
        switch name {
        case "text": return "\(path) is not UTF-8 text"
        case "data":
            guard let format = StructuredFormat.of(path: path) else {
                return "\(path) is not .json, .yaml, .yml or .properties, so it has no data (use text)"
            }
            if case .failure(let error) = data() { return "\(path) does not parse as \(format.rawValue): \(error)" }
            return "\(path) has no data"
        default:
            return "a file has path, name, text, data, sha256 and size, not \(name)"
        }
    }

    private func data() -> Result<Any, StructuredError> {
        if parsed == nil, let format = StructuredFormat.of(path: path) {
            do throws(StructuredError) {
                parsed = .success(try StructuredParser.parse(file.content, format: format))
            } catch {
                parsed = .failure(error)
            }
        }
        switch parsed {
        case .success(let value)?: return .success(ValueNode.make(value))
        case .failure(let error)?: return .failure(error)
        case nil: return .failure(StructuredError(line: nil, reason: "not structured"))
        }
    }
}

/// A parsed value as a template sees it: scalars as written, objects and lists as JSON when
/// printed whole, `false` and null empty in sections.
enum ValueNode {
    static func make(_ value: StructuredValue) -> Any {
        switch value {
        case .scalar(let scalar): ScalarNode(scalar: scalar)
        case .list(let items): ListNode(items: items)
        case .object(let members, let own): ObjectNode(members: members, own: own)
        }
    }
}

struct ScalarNode: TemplateParent, MustacheCustomRenderable {
    let scalar: StructuredScalar

    var renderText: String { scalar.kind == .null ? "" : scalar.text }
    var isNull: Bool { !scalar.isTruthy }

    /// `x.json`: the typed value as JSON (`yes` → `true`, a string quoted).
    func child(named name: String) -> Any? { name == "json" ? scalar.json : nil }

    func absence(of name: String) -> String { "\(scalar.text.debugDescription) is a single value; it has only .json" }
}

struct ListNode: MustacheSequence, MustacheCustomRenderable {
    let items: [StructuredValue]

    var renderText: String { StructuredValue.list(items).json }
    var isNull: Bool { false }

    func makeIterator() -> IndexingIterator<[Any]> { items.map(ValueNode.make).makeIterator() }
}

struct ObjectNode: TemplateParent, MustacheCustomRenderable {
    let members: [StructuredMember]
    /// A .properties key that also has a value of its own (`c=4` beside `c.d=3`).
    let own: StructuredScalar?

    var renderText: String { own?.text ?? StructuredValue.object(members, value: nil).json }
    var isNull: Bool { false }

    func child(named name: String) -> Any? {
        if let member = members.last(where: { $0.name == name }) { return ValueNode.make(member.value) }
        return name == "json" ? StructuredValue.object(members, value: nil).json : nil
    }

    func absence(of name: String) -> String { "there is no \(name) here (names here: \(FilesNode.list(members.map(\.name))))" }
}

/// `files_digest`: filled in once the check has seen which files the template reads.
final class FilesDigest: MustacheCustomRenderable {
    var value = ""
    var renderText: String { value }
    var isNull: Bool { false }
}
