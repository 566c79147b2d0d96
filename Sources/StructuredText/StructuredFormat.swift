/// Which files hold structured data, by extension, ignoring case: `.json`, `.yaml`/`.yml`,
/// `.properties`. Sync's validation, the files layout's key expansion and the renderer's
/// `files.NAME.data` all use this one rule, so a `bomb.YAML` cannot pass one side as text and
/// be parsed by the other.
public enum StructuredFormat: String, Sendable, Equatable {
    case json, yaml, properties

    public static func of(path: String) -> StructuredFormat? {
        let name = path.lowercased()
        if name.hasSuffix(".json") { return .json }
        if name.hasSuffix(".yaml") || name.hasSuffix(".yml") { return .yaml }
        if name.hasSuffix(".properties") { return .properties }
        return nil
    }
}
