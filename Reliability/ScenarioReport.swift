/// What one reliability scenario prints, and whether it met its goals.
struct ScenarioReport {
    var lines: [String]
    var passed: Bool
}
