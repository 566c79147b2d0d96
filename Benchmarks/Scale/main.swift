let arguments = Array(CommandLine.arguments.dropFirst())
let commits = arguments.first.flatMap { Int($0) } ?? 15
print(try await ScaleBenchmark.run(commits: commits))
