/// One line saying whether a measurement met its target, for the report (and BENCHMARKS.md).
public func targetLine(_ target: String, met: Bool, measured: String) -> String {
    "- Target \(target): **\(met ? "met" : "missed")** (\(measured))."
}
