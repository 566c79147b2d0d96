/// The one way tests wait for something another task or process does: check `condition`
/// every 20 ms until it holds; after `timeout` (generous, for a loaded machine) throw an error
/// naming what was awaited. Never a way to prove that nothing happened.
public func eventually(_ what: String, timeout: Duration = .seconds(30), _ condition: () async throws -> Bool) async throws {
    let deadline = ContinuousClock.now + timeout
    while try await !condition() {
        guard ContinuousClock.now < deadline else { throw WaitTimeout(what: what, timeout: timeout) }
        try await Task.sleep(for: .milliseconds(20))
    }
}

/// A wait of `eventually` that ran out.
public struct WaitTimeout: Error, CustomStringConvertible {
    public let what: String
    public let timeout: Duration
    public var description: String { "timed out after \(timeout) waiting for \(what)" }
}
