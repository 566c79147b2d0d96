/// Which bundle a file of a mapping's source belongs to, and its path inside that bundle.
public struct BundleLayout: Sendable {
    /// The bundle of files directly in the source (with `bundle_by: directory`).
    public static let rootBundle = "_root"
    /// The one bundle of a mapping with `bundle_by: single`.
    public static let singleBundle = "_all"

    public let bundleBy: MappingConfig.BundleBy

    public init(bundleBy: MappingConfig.BundleBy) {
        self.bundleBy = bundleBy
    }

    /// `path` is relative to the mapping's source.
    public func place(_ path: String) -> (bundle: String, pathInBundle: String) {
        switch bundleBy {
        case .single:
            return (Self.singleBundle, path)
        case .directory:
            guard let slash = path.firstIndex(of: "/") else { return (Self.rootBundle, path) }
            return (String(path[..<slash]), String(path[path.index(after: slash)...]))
        }
    }

    /// The bundle's directory in the repository, for the bundle's `source.path`.
    public func directory(of bundle: String, source: String) -> String {
        guard bundleBy == .directory, bundle != Self.rootBundle else { return source }
        return source.isEmpty ? bundle : "\(source)/\(bundle)"
    }
}
