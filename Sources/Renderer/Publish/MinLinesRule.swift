/// `min_lines` of a publisher: one minimum for every file, or a minimum per file name
/// (`min_lines: { hosts: 1000, extra: 1 }`; a file not named needs 1 line).
public struct MinLinesRule: Sendable, Equatable {
    public var all: Int
    public var perFile: [String: Int]

    public init(all: Int = 1, perFile: [String: Int] = [:]) {
        self.all = all
        self.perFile = perFile
    }

    public func minimum(for file: String) -> Int {
        perFile.isEmpty ? all : perFile[file] ?? 1
    }
}
