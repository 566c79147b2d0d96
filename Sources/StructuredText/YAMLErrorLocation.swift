public import Yams

/// Line and problem of a Yams error, for `file:line: reason` messages.
public enum YAMLErrorLocation {
    public static func line(of error: YamlError) -> Int? {
        switch error {
        case .scanner(_, _, let mark, _), .parser(_, _, let mark, _), .composer(_, _, let mark, _): mark.line
        default: nil
        }
    }

    public static func problem(of error: YamlError) -> String {
        switch error {
        case .scanner(let context, let problem, _, _), .parser(let context, let problem, _, _), .composer(let context, let problem, _, _):
            if let context { return "invalid YAML: \(problem) (\(context.text))" }
            return "invalid YAML: \(problem)"
        case .reader(let problem, _, _, _): return "invalid YAML: \(problem)"
        default: return "invalid YAML: \(error)"
        }
    }
}
