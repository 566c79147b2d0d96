/// The limits a structured file must stay within, the same at sync (validation) and on the node
/// (rendering): a file may expand through YAML aliases to at most `nodes(forBytes:)` nodes, so a
/// few hundred bytes cannot become gigabytes; nesting is bounded by libyaml's 1,000 levels.
public enum StructuredBudget {
    /// Far above what a file without aliases can hold (about one node per two bytes), far below
    /// what an alias bomb of the same size expands to.
    public static func nodes(forBytes count: Int) -> Int { 100_000 + 2 * count }

    /// libyaml's own limit, applied to JSON read by Foundation too.
    public static let nesting = 1_000
}
