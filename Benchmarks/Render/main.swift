let arguments = Array(CommandLine.arguments.dropFirst())
if arguments.first == "reports" {
    // `git2kv-render-benchmarks reports [ROUNDS] [RENDERERS]`: delivery reports after one change.
    let rounds = arguments.dropFirst().first.flatMap { Int($0) } ?? 3
    let renderers = arguments.dropFirst(2).first.flatMap { Int($0) } ?? 1_000
    print(try await ReportBenchmark.run(rounds: rounds, renderers: renderers))
} else {
    let rounds = arguments.first.flatMap { Int($0) } ?? 7
    print(try await RenderBenchmark.run(rounds: rounds))
}
